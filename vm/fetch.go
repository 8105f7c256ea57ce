package vm

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/kernels"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// Kernel images come from Debian's archives with apt-get download, through
// a private sources list and state under the cache directory, so the
// system's apt configuration is neither used nor touched. Only the
// compressed kernel image is kept.

// imagePath is where a kernel's image lives in the cache.
func imagePath(cacheDir string, k kernels.Kernel) string {
	return filepath.Join(cacheDir, "images", k.Package+"_"+k.DebVersion, "vmlinuz")
}

// FetchImage returns the path of k's image, downloading it when it is not
// cached. A missing apt-get or dpkg-deb is a *verifier.CapabilityError.
func FetchImage(ctx context.Context, cacheDir string, k kernels.Kernel) (string, error) {
	img := imagePath(cacheDir, k)
	if _, err := os.Stat(img); err == nil {
		return img, nil
	}
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", &verifier.CapabilityError{Msg: fmt.Sprintf("kernel %s: image not in %s and %s not found -> run on a Debian/Ubuntu host or put the image there (from %s %s)", k.Version, filepath.Dir(img), tool, k.Package, k.DebVersion)}
		}
	}
	aptDir := filepath.Join(cacheDir, "apt", k.Suite)
	for _, d := range []string{"lists/partial", "cache/archives/partial", "sources.list.d", "download"} {
		if err := os.MkdirAll(filepath.Join(aptDir, d), 0o755); err != nil {
			return "", err
		}
	}
	sources := filepath.Join(aptDir, "sources.list")
	line := fmt.Sprintf("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n", k.Archive, k.Suite)
	if err := os.WriteFile(sources, []byte(line), 0o644); err != nil {
		return "", err
	}
	aptOpts := []string{
		"-o", "Dir::Etc::SourceList=" + sources,
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(aptDir, "sources.list.d"),
		"-o", "Dir::State::Lists=" + filepath.Join(aptDir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(aptDir, "cache"),
		"-o", "APT::Sandbox::User=root",
	}
	download := filepath.Join(aptDir, "download")
	get := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", append(aptOpts, "download", k.Package+"="+k.DebVersion)...)
		cmd.Dir = download
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get download %s=%s: %v: %s", k.Package, k.DebVersion, err, lastLine(string(out)))
		}
		return nil
	}
	if err := get(); err != nil {
		// The lists may be missing or stale: update this suite only, retry.
		cmd := exec.CommandContext(ctx, "apt-get", append(aptOpts, "update")...)
		if out, uerr := cmd.CombinedOutput(); uerr != nil {
			return "", &verifier.CapabilityError{Msg: fmt.Sprintf("kernel %s: apt-get update for %s %s failed (%s) -> check network access to %s", k.Version, k.Archive, k.Suite, lastLine(string(out)), k.Archive)}
		}
		if err := get(); err != nil {
			return "", &verifier.CapabilityError{Msg: fmt.Sprintf("kernel %s: %v -> the pinned package may have left the archive; update kernels/catalogue.txt", k.Version, err)}
		}
	}
	debs, _ := filepath.Glob(filepath.Join(download, k.Package+"_*.deb"))
	if len(debs) == 0 {
		return "", fmt.Errorf("kernel %s: apt-get download left no .deb in %s", k.Version, download)
	}
	defer func() {
		for _, d := range debs {
			os.Remove(d)
		}
	}()
	if err := checkSHA256(debs[0], k.SHA256); err != nil {
		return "", fmt.Errorf("kernel %s: %w", k.Version, err)
	}
	if err := extractImage(ctx, debs[0], k.Image, img); err != nil {
		return "", fmt.Errorf("kernel %s: %w", k.Version, err)
	}
	return img, nil
}

func checkSHA256(file, want string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: sha256 %s, the catalogue pins %s", filepath.Base(file), got, want)
	}
	return nil
}

// extractImage copies one file out of a .deb's data archive (dpkg-deb
// handles its compression) to dst, atomically.
func extractImage(ctx context.Context, deb, member, dst string) error {
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	tr := tar.NewReader(pipe)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s has no %s", filepath.Base(deb), member)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", filepath.Base(deb), err)
		}
		if path.Clean(strings.TrimPrefix(h.Name, "./")) != member {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		tmp := dst + ".tmp"
		f, err := os.Create(tmp)
		if err != nil {
			return err
		}
		_, cerr := io.Copy(f, io.LimitReader(tr, 256<<20))
		if err := errors.Join(cerr, f.Close()); err != nil {
			os.Remove(tmp)
			return err
		}
		io.Copy(io.Discard, pipe) // let dpkg-deb finish writing
		return os.Rename(tmp, dst)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
