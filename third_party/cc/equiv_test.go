// bpf-lsp: the preprocessor patches (PATCHES.md, 5 and up) only make cc/v4
// faster; this test checks that its output stays byte for byte what the
// pristine v4.31.0 produces.

package cc_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/equiv/*.golden with the pristine cc/v4's output")

// pristineVersion is the cc/v4 release third_party/cc was copied from.
const pristineVersion = "v4.31.0"

// TestPreprocessorEquivalence preprocesses the C files in testdata/equiv
// (and, when the real-world corpus cache is present, a sample of the kernel
// BPF selftests) with this package and with the pristine cc/v4 from the
// module cache, and compares Preprocess's text, every token the parser would
// get (position, separator, spelling) and the errors. Both are built from
// their sources with one driver, testdata/equiv/{main,dump}.go. Without the
// pristine module the own inputs are compared with their golden files
// (written by -update from the pristine output).
func TestPreprocessorEquivalence(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cc/v4 twice")
	}
	work := t.TempDir()
	patched := buildDriver(t, work, "patched", ".")
	var pristine string
	if dir := pristineDir(t); dir != "" {
		pristine = buildDriver(t, work, "pristine", dir)
	} else if *update {
		t.Fatalf("-update needs modernc.org/cc/v4@%s in the module cache", pristineVersion)
	}

	t.Run("own", func(t *testing.T) {
		inputs, err := filepath.Glob("testdata/equiv/*.c")
		if err != nil || len(inputs) == 0 {
			t.Fatalf("no inputs in testdata/equiv: %v", err)
		}
		var jobs []job
		for _, in := range inputs {
			name := filepath.Base(in)
			jobs = append(jobs, job{IncludePaths: []string{""}, Files: []string{name}, Out: filepath.Join(work, "own", name)})
		}
		for i, out := range compare(t, "testdata/equiv", patched, pristine, jobs) {
			golden := strings.TrimSuffix(inputs[i], ".c") + ".golden"
			if pristine != "" {
				sameFiles(t, out.pristine, out.patched)
			}
			if *update {
				data, err := os.ReadFile(out.pristine)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			sameFiles(t, golden, out.patched)
		}
	})

	t.Run("selftests", func(t *testing.T) {
		if pristine == "" {
			t.Skipf("modernc.org/cc/v4@%s is not in the module cache", pristineVersion)
		}
		c := selftests(t)
		var jobs []job
		for _, f := range c.files {
			jobs = append(jobs, job{Predefined: c.predefined, Builtin: true, IncludePaths: c.quoted, SysIncludePaths: c.angle,
				Files: []string{f}, Out: filepath.Join(work, "selftests", filepath.Base(f))})
		}
		for _, out := range compare(t, c.dir, patched, pristine, jobs) {
			sameFiles(t, out.pristine, out.patched)
			os.Remove(out.pristine)
			os.Remove(out.patched)
		}
	})
}

// corpus is a sample of the kernel BPF selftests with what preprocessing
// them takes.
type corpus struct {
	dir           string   // where the Makefile is
	files         []string // progs/*.c, a sample (see sample)
	predefined    string
	quoted, angle []string // include paths
}

// selftests returns the sample of the real-world corpus cache
// (scripts/realworld.sh), skipping tb when there is none. Macros: the BPF
// target's predefined ones as cparse gives them and the selftests
// Makefile's; no header rewrites (both versions must agree on the errors
// those would avoid too).
func selftests(tb testing.TB) corpus {
	cache := os.Getenv("BPF_LSP_REALWORLD_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			tb.Skip(err)
		}
		cache = filepath.Join(dir, "bpf-lsp", "realworld")
	}
	root := filepath.Join(cache, "linux-source-6.12")
	dir := filepath.Join(root, "tools/testing/selftests/bpf")
	inc := filepath.Join(cache, "build/include")
	if _, err := os.Stat(filepath.Join(inc, "vmlinux.h")); err != nil {
		tb.Skipf("no real-world corpus (scripts/realworld.sh builds it): %v", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "progs", "*.c"))
	if err != nil || len(files) == 0 {
		tb.Skipf("no selftests in %s: %v", dir, err)
	}
	sort.Strings(files)
	predefined, err := os.ReadFile("../../cparse/bpf_predefined.h")
	if err != nil {
		tb.Fatal(err)
	}
	angle := []string{inc, dir, filepath.Join(root, "tools/include/uapi"), "/usr/include/x86_64-linux-gnu", "/usr/include"}
	return corpus{
		dir:        dir,
		files:      sample(files),
		predefined: string(predefined) + "#define __TARGET_ARCH_x86 1\n#define ENABLE_ATOMICS_TESTS 1\n",
		quoted:     append([]string{""}, angle...),
		angle:      angle,
	}
}

// sample returns every 40th file, or the files BPF_LSP_EQUIV_FILES
// matches (a glob on base names, "*" for all).
func sample(files []string) []string {
	var out []string
	if glob := os.Getenv("BPF_LSP_EQUIV_FILES"); glob != "" {
		for _, f := range files {
			if ok, _ := filepath.Match(glob, filepath.Base(f)); ok {
				out = append(out, f)
			}
		}
		return out
	}
	for i := 0; i < len(files); i += 40 {
		out = append(out, files[i])
	}
	return out
}

// job is one run of the driver (see testdata/equiv/main.go).
type job struct {
	Predefined      string
	Builtin         bool
	IncludePaths    []string
	SysIncludePaths []string
	Files           []string
	Out             string
}

type outputs struct{ patched, pristine string }

// compare runs jobs through both drivers (from dir) and returns where each
// wrote its dump; pristine == "" runs the patched driver only.
func compare(t *testing.T, dir, patched, pristine string, jobs []job) []outputs {
	t.Helper()
	out := make([]outputs, len(jobs))
	var wg sync.WaitGroup
	for _, d := range []struct {
		bin    string
		suffix string
		set    func(o *outputs, path string)
	}{
		{patched, ".patched", func(o *outputs, p string) { o.patched = p }},
		{pristine, ".pristine", func(o *outputs, p string) { o.pristine = p }},
	} {
		if d.bin == "" {
			continue
		}
		var renamed []job
		for i, j := range jobs {
			j.Out += d.suffix
			d.set(&out[i], j.Out)
			renamed = append(renamed, j)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := runDriver(d.bin, dir, renamed); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

func runDriver(bin, dir string, jobs []job) error {
	if err := os.MkdirAll(filepath.Dir(jobs[0].Out), 0o755); err != nil {
		return err
	}
	var in strings.Builder
	enc := json.NewEncoder(&in)
	for _, j := range jobs {
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", bin, err, out)
	}
	return nil
}

// sameFiles reports the first line where the dumps a and b differ.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	ra, rb := bufio.NewReader(fa), bufio.NewReader(fb)
	for line := 1; ; line++ {
		la, ea := ra.ReadString('\n')
		lb, eb := rb.ReadString('\n')
		if la != lb {
			t.Errorf("%s and %s differ at line %d:\n%.500q\n%.500q", a, b, line, la, lb)
			return
		}
		if ea == io.EOF && eb == io.EOF {
			return
		}
		if ea != nil && ea != io.EOF || eb != nil && eb != io.EOF {
			t.Fatal(ea, eb)
		}
	}
}

// pristineDir returns the pristine module's directory in the module cache,
// or "" when it is not there.
func pristineDir(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "modernc.org", "cc", "v4@"+pristineVersion)
	if _, err := os.Stat(filepath.Join(dir, "cpp.go")); err != nil {
		return ""
	}
	return dir
}

// buildDriver copies the cc/v4 sources in src (without tests) with
// testdata/equiv/dump.go into a module and builds testdata/equiv/main.go
// against it, offline: the dependencies are this package's, in go.mod, and
// the repository's go.sum has them.
func buildDriver(t *testing.T, work, name, src string) string {
	t.Helper()
	lib := filepath.Join(work, name, "cc")
	cmd := filepath.Join(work, name, "cmd")
	for _, d := range []string{lib, cmd} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	copies := map[string]string{"go.mod": filepath.Join(lib, "go.mod"), "testdata/equiv/dump.go": filepath.Join(lib, "zz_equiv_dump.go"),
		"testdata/equiv/main.go": filepath.Join(cmd, "main.go"), "../../go.sum": filepath.Join(cmd, "go.sum")}
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			copies[f] = filepath.Join(lib, filepath.Base(f))
		}
	}
	for from, to := range copies {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := fmt.Sprintf("module equiv\n\ngo 1.25\n\nrequire modernc.org/cc/v4 %s\n\nreplace modernc.org/cc/v4 => ../cc\n", pristineVersion)
	if err := os.WriteFile(filepath.Join(cmd, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(work, name, "equiv")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Dir = cmd
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOSUMDB=off", "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the %s driver: %v\n%s", name, err, out)
	}
	return bin
}
