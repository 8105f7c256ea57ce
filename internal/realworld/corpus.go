// Package realworld measures bpf-lsp on the kernel's own BPF programs (the
// BPF selftests and sched_ext of a Linux source tree): it builds every
// program the way their Makefiles do, gets the kernel's verdict on every
// program with the project's loader, runs `bpf-lsp check` on every file as a
// user would, and scores the result against a checked-in baseline.
package realworld

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Source is one C file of the corpus and how its Makefile compiles it.
type Source struct {
	Path string // absolute
	Name string // relative to the source tree, the key in reports and baselines
	Dir  string // the Makefile's directory: clang and bpf-lsp run there
	// Flags are clang's flags from the Makefile, except -c and -o.
	Flags []string
}

// Corpus is a prepared source tree: headers installed and sources listed.
type Corpus struct {
	Root    string // the extracted linux-source tree
	Include string // libbpf headers (bpf/*.h) and vmlinux.h, as the Makefiles install them
	Sources []Source
}

// Prepare installs libbpf's headers with a generated bpf_helper_defs.h and a
// vmlinux.h from the running kernel into build/include under cache, as the
// selftests and sched_ext Makefiles do, and lists every program source with
// its compile flags.
func Prepare(ctx context.Context, root, cache string) (*Corpus, error) {
	c := &Corpus{Root: root, Include: filepath.Join(cache, "build", "include")}
	if err := c.installLibbpfHeaders(ctx); err != nil {
		return nil, err
	}
	if err := c.generateVmlinux(ctx); err != nil {
		return nil, err
	}
	sysIncludes, err := clangSystemIncludes(ctx)
	if err != nil {
		return nil, err
	}
	selftests, err := c.selftestSources(sysIncludes)
	if err != nil {
		return nil, err
	}
	scx, err := c.schedExtSources(sysIncludes)
	if err != nil {
		return nil, err
	}
	c.Sources = append(selftests, scx...)
	if len(c.Sources) == 0 {
		return nil, fmt.Errorf("no BPF sources under %s", root)
	}
	return c, nil
}

func (c *Corpus) path(rel string) string { return filepath.Join(c.Root, filepath.FromSlash(rel)) }

// installLibbpfHeaders copies libbpf's SRC_HDRS into Include/bpf and
// generates bpf_helper_defs.h from the uapi bpf.h, like `make
// install_headers` in tools/lib/bpf.
func (c *Corpus) installLibbpfHeaders(ctx context.Context) error {
	libbpf := c.path("tools/lib/bpf")
	hdrs, err := makeVar(filepath.Join(libbpf, "Makefile"), "SRC_HDRS")
	if err != nil {
		return err
	}
	dst := filepath.Join(c.Include, "bpf")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, h := range strings.Fields(hdrs) {
		data, err := os.ReadFile(filepath.Join(libbpf, h))
		if err != nil {
			return fmt.Errorf("install libbpf headers: %w", err)
		}
		if err := writeIfChanged(filepath.Join(dst, h), data); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, "python3", c.path("scripts/bpf_doc.py"), "--header", "--file", c.path("tools/include/uapi/linux/bpf.h"))
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("generate bpf_helper_defs.h (python3 scripts/bpf_doc.py): %w%s", err, stderrOf(err))
	}
	return writeIfChanged(filepath.Join(dst, "bpf_helper_defs.h"), out)
}

// generateVmlinux dumps the running kernel's BTF as C, like the Makefiles'
// vmlinux.h rule (which also rewrites it only when it changed, so objects
// built from it stay up to date).
func (c *Corpus) generateVmlinux(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c").Output()
	if err != nil {
		return fmt.Errorf("generate vmlinux.h (bpftool btf dump): %w%s", err, stderrOf(err))
	}
	return writeIfChanged(filepath.Join(c.Include, "vmlinux.h"), out)
}

// clangSystemIncludes returns the Makefiles' get_sys_includes: clang's own
// <...> search list as -idirafter flags.
func clangSystemIncludes(ctx context.Context) ([]string, error) {
	cmd := exec.CommandContext(ctx, Clang, "-v", "-E", "-")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s -v -E: %w\n%s", Clang, err, out)
	}
	var flags []string
	in := false
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "#include <...> search starts here:"):
			in = true
		case strings.HasPrefix(l, "End of search list."):
			in = false
		case in && strings.HasPrefix(l, " /"):
			flags = append(flags, "-idirafter", strings.TrimSpace(l))
		}
	}
	return flags, nil
}

// perFileCFlags matches the selftests Makefile's per-source extra flags of
// the default (clang) flavor: "progs/x.c-CFLAGS := -fno-strict-aliasing".
var perFileCFlags = regexp.MustCompile(`^(progs/[^\s$]+\.c)-CFLAGS\s*:?=\s*(.*)$`)

// selftestSources lists progs/*.c with the test_progs flavor's flags:
// BPF_CFLAGS, CLANG_CFLAGS, -DENABLE_ATOMICS_TESTS, the file's own -CFLAGS
// and CLANG_BPF_BUILD_RULE's "-O2 --target=bpf -mcpu=v3".
func (c *Corpus) selftestSources(sysIncludes []string) ([]Source, error) {
	dir := c.path("tools/testing/selftests/bpf")
	extra := map[string][]string{}
	mk, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(string(mk), "\n") {
		if m := perFileCFlags.FindStringSubmatch(l); m != nil {
			extra[m[1]] = strings.Fields(m[2])
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "progs", "*.c"))
	if err != nil {
		return nil, err
	}
	base := []string{"-g", "-Wall", "-Werror", "-D__TARGET_ARCH_x86", "-mlittle-endian",
		"-I" + c.Include, "-I" + dir, "-I" + c.path("tools/include/uapi"),
		"-Wno-compare-distinct-pointer-types"}
	base = append(base, sysIncludes...)
	base = append(base, "-DENABLE_ATOMICS_TESTS")
	var out []Source
	for _, f := range files {
		rel := "progs/" + filepath.Base(f)
		flags := append(append(slices.Clone(base), extra[rel]...), "-O2", "--target=bpf", "-mcpu=v3")
		out = append(out, c.source(f, dir, flags))
	}
	return out, nil
}

// schedExtSources lists tools/sched_ext/*.bpf.c with that Makefile's
// BPF_CFLAGS and "-target bpf".
func (c *Corpus) schedExtSources(sysIncludes []string) ([]Source, error) {
	dir := c.path("tools/sched_ext")
	files, err := filepath.Glob(filepath.Join(dir, "*.bpf.c"))
	if err != nil {
		return nil, err
	}
	flags := []string{"-g", "-D__TARGET_ARCH_x86", "-mlittle-endian",
		"-I" + filepath.Join(dir, "include"), "-I" + filepath.Join(dir, "include", "bpf-compat"),
		"-I" + c.Include, "-I" + c.path("tools/include/uapi"), "-I../../include"}
	flags = append(flags, sysIncludes...)
	flags = append(flags, "-Wall", "-Wno-compare-distinct-pointer-types", "-O2", "-mcpu=v3", "-target", "bpf")
	var out []Source
	for _, f := range files {
		out = append(out, c.source(f, dir, flags))
	}
	return out, nil
}

func (c *Corpus) source(path, dir string, flags []string) Source {
	rel, err := filepath.Rel(c.Root, path)
	if err != nil {
		rel = path
	}
	return Source{Path: path, Name: filepath.ToSlash(rel), Dir: dir, Flags: flags}
}

// PreprocessorFlags returns the flags of a clang command line that a user
// gives bpf-lsp too (include dirs, macros, forced includes), keeping only
// those the CLI accepts: supported reports whether it knows a flag ("-I").
func PreprocessorFlags(flags []string, supported func(string) bool) []string {
	var out []string
	for i := 0; i < len(flags); i++ {
		f := flags[i]
		for _, name := range []string{"-I", "-D", "-U", "-idirafter", "-isystem", "-iquote", "-include"} {
			if f != name && !(len(name) == 2 && strings.HasPrefix(f, name)) {
				continue
			}
			if !supported(name) {
				break
			}
			out = append(out, f)
			if f == name && i+1 < len(flags) {
				i++
				out = append(out, flags[i])
			}
			break
		}
	}
	return out
}

// makeVar reads a simple ":=" or "=" variable from a Makefile, joining
// backslash continuations.
func makeVar(makefile, name string) (string, error) {
	data, err := os.ReadFile(makefile)
	if err != nil {
		return "", err
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `\s*:?=\s*(.*)$`)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		val := m[1]
		for strings.HasSuffix(val, "\\") && sc.Scan() {
			val = strings.TrimSuffix(val, "\\") + " " + sc.Text()
		}
		return strings.Join(strings.Fields(val), " "), nil
	}
	return "", fmt.Errorf("%s: no variable %s", makefile, name)
}

// writeIfChanged writes data unless the file already holds it, so its
// modification time only moves when its contents do.
func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
