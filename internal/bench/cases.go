package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// benchCase writes one file (and its flags) into dir and returns its path
// and text, or why it cannot run here.
type benchCase struct {
	name  string
	setup func(dir string) (path, src, skip string)
}

func cases(corpus, rw string) []benchCase {
	inc, _ := filepath.Abs("testdata/include")
	flagsFile := func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "compile_flags.txt"), []byte("-target\nbpf\n-I"+inc+"\n"), 0o644)
	}
	generated := func(lines int) func(string) (string, string, string) {
		return func(dir string) (string, string, string) {
			if err := flagsFile(dir); err != nil {
				return "", "", err.Error()
			}
			return filepath.Join(dir, "big.bpf.c"), lockProgram(lines), ""
		}
	}
	out := []benchCase{
		{"vmlinux.h program", func(dir string) (string, string, string) {
			src, err := os.ReadFile("lsp/testdata/vmlinux.bpf.c")
			if err != nil {
				return "", "", "run from the repository root: " + err.Error()
			}
			if _, err := exec.LookPath("bpftool"); err != nil {
				return "", "", "bpftool not installed: needed to generate vmlinux.h"
			}
			h, err := exec.Command("bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c").Output()
			if err != nil {
				return "", "", fmt.Sprintf("bpftool btf dump: %v", err)
			}
			if err := os.WriteFile(filepath.Join(dir, "vmlinux.h"), h, 0o644); err != nil {
				return "", "", err.Error()
			}
			if err := flagsFile(dir); err != nil {
				return "", "", err.Error()
			}
			return filepath.Join(dir, "prog.bpf.c"), string(src), ""
		}},
		{"2,000 lines", generated(2000)},
		{"5,000 lines", generated(5000)},
	}
	for _, name := range []string{"rbtree", "linked_list", "find_vma"} {
		out = append(out, benchCase{name + ".c", func(dir string) (string, string, string) { return selftest(dir, corpus, rw, name) }})
	}
	return out
}

// selftest copies a kernel selftest into dir with a compile database
// holding the selftests' own flags (its directory the selftests', so
// relative -I work, plus progs/ for the quoted includes a copy no longer
// finds beside itself).
func selftest(dir, corpus, rw, name string) (string, string, string) {
	bpfDir := filepath.Join(corpus, "tools/testing/selftests/bpf")
	src, err := os.ReadFile(filepath.Join(bpfDir, "progs", name+".c"))
	if err != nil {
		return "", "", "kernel selftests absent: " + err.Error()
	}
	if _, err := os.Stat(filepath.Join(rw, "vmlinux.h")); err != nil {
		return "", "", "selftest headers absent: " + err.Error()
	}
	path := filepath.Join(dir, name+".c")
	args := []string{"clang-19", "-g", "-Wall", "-D__TARGET_ARCH_x86", "-mlittle-endian", "-I" + rw, "-I.", "-Iprogs",
		"-I../../../include/uapi", "-I" + filepath.Join(rw, "include"), "-I../../../include",
		"-idirafter", "/usr/lib/llvm-19/lib/clang/19/include", "-idirafter", "/usr/local/include",
		"-idirafter", "/usr/include/x86_64-linux-gnu", "-idirafter", "/usr/include",
		"-Wno-compare-distinct-pointer-types", "-O2", "--target=bpf", "-mcpu=v3", "-c", path}
	db, _ := json.Marshal([]map[string]any{{"directory": bpfDir, "file": path, "arguments": args}})
	if err := os.WriteFile(filepath.Join(dir, "compile_commands.json"), db, 0o644); err != nil {
		return "", "", err.Error()
	}
	return path, string(src), ""
}

// lockProgram generates an n-line program on the project's test header:
// many functions taking and releasing a lock around list operations.
func lockProgram(lines int) string {
	var b strings.Builder
	b.WriteString("#include \"bpf_lsp.h\"\n\nstruct item {\n\tstruct bpf_list_node link;\n\t__u64 value;\n};\n\n")
	b.WriteString("private(L) struct bpf_spin_lock lock;\nprivate(L) struct bpf_list_head head __contains(item, link);\n\n")
	for i, n := 0, 10; n < lines-20; i, n = i+1, n+16 {
		fmt.Fprintf(&b, `SEC("tc")
int push_%d(struct __sk_buff *ctx)
{
	struct item *it = bpf_obj_new(typeof(*it));

	if (!it)
		return 0;
	it->value = ctx->len + %d;
	bpf_spin_lock(&lock);
	bpf_list_push_back(&head, &it->link);
	bpf_spin_unlock(&lock);
	if (ctx->mark == %d)
		return 1;
	return 0;
}

`, i, i, i)
	}
	b.WriteString("char _license[] SEC(\"license\") = \"GPL\";\n")
	return b.String()
}
