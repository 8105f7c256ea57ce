// Package vm verifies BPF objects on other kernels than the running one:
// it boots each catalogued kernel (package kernels) under qemu with an
// initramfs holding a static guest loader built from the project's own
// verifier package, and reads per-program verdicts back from the serial
// console. One boot per kernel verifies every object; verdicts are cached
// by (object hash, kernel package version, guest loader).
package vm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bpf-lsp/bpf-lsp/kernels"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// Options configure the VMs.
type Options struct {
	CacheDir string        // "" = os.UserCacheDir()/bpf-lsp/kernels
	Qemu     string        // "" = qemu-system-x86_64
	Accel    string        // "tcg", "kvm", or "" = KVM when a probe boot under it succeeds (accel.go), else TCG
	MemoryMB int           // guest memory; 0 = 256
	Timeout  time.Duration // per boot; 0 = 3 minutes (TCG verifies ~8x slower than native)
	// Guest is a prebuilt static guest binary (vm/guest built with
	// CGO_ENABLED=0); "" builds it with the go tool.
	Guest string
	// Progress, when set, hears what is happening ("fetching 6.12", ...).
	Progress func(msg string)
}

func (o *Options) defaults() error {
	if o.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("cache directory: %w", err)
		}
		o.CacheDir = filepath.Join(base, "bpf-lsp", "kernels")
	}
	if o.Qemu == "" {
		o.Qemu = "qemu-system-x86_64"
	}
	if o.MemoryMB == 0 {
		o.MemoryMB = 256
	}
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	return nil
}

// Object is one compiled BPF object.
type Object struct {
	Name string // labels results (Result.Object)
	Data []byte
}

// KernelRun is one kernel's verdicts.
type KernelRun struct {
	Kernel  kernels.Kernel
	Release string              // the guest's uname -r ("" when every verdict came from the cache)
	Results [][]verifier.Result // per object, per program
	Cached  int                 // objects answered from the cache
	Boot    time.Duration       // wall time of the boot (0 without one)
	Err     error               // the kernel could not verify (boot failure); Results are then empty
}

// Run verifies every object on every kernel, one boot per kernel for the
// objects not in the cache. A missing qemu, go tool or kernel image is a
// *verifier.CapabilityError that says how to get it.
func Run(ctx context.Context, opts Options, ks []kernels.Kernel, objs []Object) ([]KernelRun, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if err := qemuCheck(opts.Qemu); err != nil {
		return nil, err
	}
	hashes := make([]string, len(objs))
	for i, o := range objs {
		sum := sha256.Sum256(o.Data)
		hashes[i] = hex.EncodeToString(sum[:])
	}
	// The guest's loader and classifier shape the verdicts: they are part
	// of the cache key (the image's name is the guest binary's hash).
	opts.Progress("building the guest loader")
	base, err := baseImage(ctx, opts)
	if err != nil {
		return nil, err
	}
	guest := strings.TrimSuffix(filepath.Base(base), ".cpio.gz")
	for i := range hashes {
		hashes[i] += "-" + guest
	}
	out := make([]KernelRun, len(ks))
	for ki, k := range ks {
		run := KernelRun{Kernel: k, Results: make([][]verifier.Result, len(objs))}
		var todo []int
		for i := range objs {
			if lines, ok := readCache(opts.CacheDir, k, hashes[i]); ok {
				run.Results[i] = toResults(objs[i].Name, lines)
				run.Cached++
			} else {
				todo = append(todo, i)
			}
		}
		if len(todo) > 0 {
			opts.Progress("fetching kernel " + k.Version)
			img, err := FetchImage(ctx, opts.CacheDir, k)
			if err != nil {
				return out, err
			}
			opts.Progress(fmt.Sprintf("verifying %d object(s) on %s", len(todo), k.Version))
			if opts.Accel == "" {
				opts.Accel = chooseAccel(ctx, opts, img, base)
			}
			start := time.Now()
			byObj, release, err := bootObjects(ctx, opts, img, base, objs, todo)
			run.Boot, run.Release = time.Since(start), release
			if err != nil {
				if ctx.Err() != nil {
					return out, ctx.Err()
				}
				run.Err = fmt.Errorf("kernel %s: %w", k.Version, err)
				run.Results = make([][]verifier.Result, len(objs))
			} else {
				for j, i := range todo {
					run.Results[i] = toResults(objs[i].Name, byObj[j])
					writeCache(opts.CacheDir, k, hashes[i], byObj[j])
				}
			}
		}
		out[ki] = run
	}
	return out, nil
}

// bootObjects boots one kernel with the given objects and returns the
// guest's lines per object (in todo's order) and the guest's release.
func bootObjects(ctx context.Context, opts Options, image, base string, objs []Object, todo []int) ([][]guestLine, string, error) {
	data := make([][]byte, len(todo))
	for j, i := range todo {
		data[j] = objs[i].Data
	}
	extra, err := objectsArchive(data)
	if err != nil {
		return nil, "", err
	}
	baseBytes, err := os.ReadFile(base)
	if err != nil {
		return nil, "", err
	}
	tmp, err := os.MkdirTemp("", "bpf-lsp-vm-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(tmp)
	initrd := filepath.Join(tmp, "initrd")
	// baseBytes is padded to 4 bytes, so the second archive is aligned.
	if err := os.WriteFile(initrd, append(baseBytes, extra...), 0o644); err != nil {
		return nil, "", err
	}
	res, err := boot(ctx, opts, image, initrd)
	if err != nil {
		return nil, res.release, err
	}
	byObj := make([][]guestLine, len(todo))
	for _, l := range res.lines {
		if l.Done {
			continue
		}
		if l.Object < 0 || l.Object >= len(todo) {
			return nil, res.release, fmt.Errorf("guest reported unknown object %d", l.Object)
		}
		byObj[l.Object] = append(byObj[l.Object], l)
	}
	return byObj, res.release, nil
}

// toResults turns guest lines into verifier results. A kfunc the kernel
// lacks stops the load before the verifier runs (as with libbpf); for a
// target kernel that is its verdict, so it counts as a rejection.
func toResults(object string, lines []guestLine) []verifier.Result {
	out := make([]verifier.Result, 0, len(lines))
	for _, l := range lines {
		// 7.3 follows the classic message with an explanation block
		// (category, reason, source and instruction context, causal path,
		// suggestion); the message is the classic part, the block stays in Log.
		msg, _, _ := strings.Cut(l.Message, "\nVerification failed:")
		r := verifier.Result{Object: object, Program: l.Program, Section: l.Section, Verdict: l.Verdict,
			Message: msg, Insn: l.Insn, SourceFile: l.File, Line: l.Line, Column: l.Column, Code: l.Code, Log: l.Log}
		if name, ok := missingKfunc(l.Message); ok && l.Verdict == verifier.Failed {
			r.Verdict, r.Code = verifier.Reject, CodeUnavailable
			r.Message = fmt.Sprintf("kfunc %s is not in this kernel's BTF", name)
		}
		out = append(out, r)
	}
	return out
}

// CodeUnavailable is the rule code of a call the target kernel lacks
// (analysis's call-unavailable rule).
const CodeUnavailable = "BL401"

// missingKfunc recognises the loader's error for a kfunc absent from the
// kernel's BTF ("... kfunc NAME is not in the running kernel ..."); the
// contract is tested against the real loader (TestMissingKfuncContract).
func missingKfunc(msg string) (string, bool) {
	_, rest, ok := strings.Cut(msg, "kfunc ")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, " is not in the running kernel")
	return name, ok && name != "" && !strings.ContainsAny(name, " \n")
}

// baseImage returns the cached base initramfs for the current guest
// binary, building both when needed.
func baseImage(ctx context.Context, opts Options) (string, error) {
	guest, err := guestBinary(ctx, opts)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(guest)
	path := filepath.Join(opts.CacheDir, "guest", hex.EncodeToString(sum[:8])+".cpio.gz")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	img, err := baseInitramfs(guest)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, img, 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

const guestPackage = "github.com/bpf-lsp/bpf-lsp/vm/guest"

// guestBinary returns the static guest loader: Options.Guest, or a build
// of vm/guest from the source tree around the working directory, or from
// the module version this binary was built from.
func guestBinary(ctx context.Context, opts Options) ([]byte, error) {
	if opts.Guest != "" {
		return os.ReadFile(opts.Guest)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, capabilityf("building the VM guest loader needs the go tool -> install Go, or pass a guest built with CGO_ENABLED=0 go build %s", guestPackage)
	}
	dir, err := os.MkdirTemp("", "bpf-lsp-guest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "guest")
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOBIN="+dir)
	build := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-o", bin, guestPackage)
	build.Env = env
	out, err := build.CombinedOutput()
	if err != nil {
		// Not in the source tree: build the version this binary came from.
		version := ""
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == "github.com/bpf-lsp/bpf-lsp" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		if version == "" {
			return nil, capabilityf("cannot build the VM guest loader (%s) -> run from the bpf-lsp source tree, or pass a guest built with CGO_ENABLED=0 go build %s", lastLine(string(out)), guestPackage)
		}
		inst := exec.CommandContext(ctx, goTool, "install", "-trimpath", guestPackage+"@"+version)
		inst.Env = env
		if out, err := inst.CombinedOutput(); err != nil {
			return nil, capabilityf("cannot build the VM guest loader %s@%s (%s)", guestPackage, version, lastLine(string(out)))
		}
	}
	return os.ReadFile(bin)
}

func capabilityf(format string, args ...any) error {
	return &verifier.CapabilityError{Msg: "kernel matrix disabled: " + fmt.Sprintf(format, args...)}
}

// The result cache: one JSON file of guest lines per (kernel package
// version, object hash and guest binary hash).
func cachePath(dir string, k kernels.Kernel, hash string) string {
	return filepath.Join(dir, "results", k.Package+"_"+k.DebVersion, hash+".json")
}

func readCache(dir string, k kernels.Kernel, hash string) ([]guestLine, bool) {
	b, err := os.ReadFile(cachePath(dir, k, hash))
	if err != nil {
		return nil, false
	}
	var lines []guestLine
	if json.Unmarshal(b, &lines) != nil {
		return nil, false
	}
	return lines, true
}

// writeCache stores verdicts; a failure only costs a boot next time.
func writeCache(dir string, k kernels.Kernel, hash string, lines []guestLine) {
	p := cachePath(dir, k, hash)
	b, err := json.Marshal(lines)
	if err != nil {
		return
	}
	if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
		return
	}
	tmp := p + ".tmp"
	if errors.Join(os.WriteFile(tmp, b, 0o644), os.Rename(tmp, p)) != nil {
		os.Remove(tmp)
	}
}
