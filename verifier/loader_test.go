package verifier

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
)

// needKernel skips, naming what is missing, when this machine cannot load
// BPF programs or compile them.
func needKernel(t *testing.T) {
	t.Helper()
	if _, err := clangPath(""); err != nil {
		testenv.Skip(t, "%v", err)
	}
	if err := Probe(); err != nil {
		testenv.Skip(t, "%v", err)
	}
}

func verifyFile(t *testing.T, path string) []Result {
	t.Helper()
	rs, err := Run(context.Background(), Options{Parser: cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}})}, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// The case stock cilium/ebpf gets wrong: lock and root in one private(A)
// section, node type only known to the kernel through the root's
// __contains. With one shared BTF object the kernel accepts it, in .data.A
// and in .bss.A alike. (clang places glock first: it is referenced before
// groot, so the kernel reports off=0.)
func TestPrivateSectionRbtreeLoads(t *testing.T) {
	needKernel(t)
	for _, section := range []string{"private", "private_bss"} {
		t.Run(section, func(t *testing.T) {
			src := strings.ReplaceAll(rbtreeProgram, "PRIVATE", section)
			path := filepath.Join(t.TempDir(), "rbtree.bpf.c")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			rs := verifyFile(t, path)
			if len(rs) != 2 {
				t.Fatalf("got %d programs, want 2: %+v", len(rs), rs)
			}
			for _, r := range rs {
				switch r.Program {
				case "add_locked":
					if r.Verdict != Accept {
						t.Errorf("add_locked: %s: %s\n%s", r.Verdict, r.Message, r.Log)
					}
				case "add_unlocked":
					if r.Verdict != Reject || !strings.Contains(r.Message, "bpf_spin_lock at off=0 must be held for bpf_rb_root") {
						t.Errorf("add_unlocked: %s: %q", r.Verdict, r.Message)
					}
					if r.Line != 33 || r.Code != "BL201" || r.Agreement != Agree {
						t.Errorf("add_unlocked: line %d code %s agreement %s (%s), want 33 BL201 agree", r.Line, r.Code, r.Agreement, r.Reason)
					}
				}
			}
		})
	}
}

const rbtreeProgram = `#include "bpf_lsp.h"
struct node_data {
	long key;
	struct bpf_rb_node node;
};
PRIVATE(A) struct bpf_rb_root groot __contains(node_data, node);
PRIVATE(A) struct bpf_spin_lock glock;

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct node_data *na = container_of(a, struct node_data, node);
	struct node_data *nb = container_of(b, struct node_data, node);
	return na->key < nb->key;
}

SEC("tc") int add_locked(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));
	if (!n)
		return 0;
	n->key = ctx->len;
	bpf_spin_lock(&glock);
	bpf_rbtree_add(&groot, &n->node, less);
	bpf_spin_unlock(&glock);
	return 0;
}

SEC("tc") int add_unlocked(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));
	if (!n)
		return 0;
	bpf_rbtree_add(&groot, &n->node, less);
	return 0;
}
char _license[] SEC("license") = "GPL";
`

func TestCompileErrorIsReported(t *testing.T) {
	if _, err := exec.LookPath("clang-19"); err != nil {
		testenv.Skip(t, "clang-19 not installed")
	}
	needKernel(t)
	path := filepath.Join(t.TempDir(), "broken.bpf.c")
	os.WriteFile(path, []byte("int f(void) { return x; }\n"), 0o644)
	rs := verifyFile(t, path)
	if len(rs) != 1 || rs[0].Verdict != Failed || !strings.Contains(rs[0].Message, "undeclared") {
		t.Fatalf("want one error result naming the compile error, got %+v", rs)
	}
}

// An object built without -g has no BTF line info: it is still verified,
// with a note that lines are unavailable.
func TestObjectWithoutDebugInfo(t *testing.T) {
	needKernel(t)
	clang, _ := clangPath("")
	obj := filepath.Join(t.TempDir(), "nog.o")
	if out, err := exec.Command(clang, "-target", "bpf", "-O2", "-I", "../testdata/include", "-c", "../testdata/held_at_return.bpf.c", "-o", obj).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	rs, err := Run(context.Background(), Options{}, []string{obj})
	if err != nil {
		t.Fatal(err)
	}
	// Without BTF a map cannot carry a lock either: the kernel's own verdict.
	if len(rs) != 1 || rs[0].Verdict != Reject || rs[0].Line != 0 || rs[0].Note == "" || rs[0].Insn < 0 ||
		!strings.Contains(rs[0].Message, "has to have BTF in order to use bpf_spin_lock") {
		t.Fatalf("without -g: %+v", rs)
	}
}

// A static helper's finding reached on one caller's path belongs to that
// caller only: the caller that holds the lock gets nothing.
func TestHelperFindingBelongsToItsCaller(t *testing.T) {
	f, err := cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}}).Parse(context.Background(), "../testdata/guarded_callee.bpf.c", nil)
	if err != nil {
		t.Fatal(err)
	}
	all := analysis.Run(f).Findings
	count := func(prog string) int {
		n := 0
		for _, fd := range programFindings(f, prog, all) {
			if fd.Code == "BL208" {
				n++
			}
		}
		return n
	}
	if got := count("locked"); got != 0 {
		t.Errorf("locked: %d BL208 findings, want 0", got)
	}
	if got := count("unlocked"); got != 1 {
		t.Errorf("unlocked: %d BL208 findings, want 1", got)
	}
}

// verify compiles with the file's own flags from compile_commands.json,
// -idirafter included (a header only found there must not fail clang).
func TestCompileDatabaseFlagsReachClang(t *testing.T) {
	needKernel(t)
	dir := t.TempDir()
	after := filepath.Join(dir, "after")
	if err := os.MkdirAll(after, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(after, "answer.h"), []byte("#define ANSWER 42\n"), 0o644)
	src := filepath.Join(dir, "prog.bpf.c")
	os.WriteFile(src, []byte(`#include <answer.h>
#define SEC(name) __attribute__((section(name), used))
SEC("tc") int prog(void *ctx) { return ANSWER - 42; }
char _license[] SEC("license") = "GPL";
`), 0o644)
	db := `[{"directory": "` + dir + `", "file": "prog.bpf.c", "arguments": ["clang", "-target", "bpf", "-idirafter", "after", "-c", "prog.bpf.c"]}]`
	os.WriteFile(filepath.Join(dir, "compile_commands.json"), []byte(db), 0o644)
	rs, err := Run(context.Background(), Options{}, []string{src})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Verdict != Accept {
		t.Fatalf("want the program accepted, got %+v", rs)
	}
}

// A program the loader cannot prepare is an error naming the reason, never
// a rejection: the kernel has not seen it. Its neighbour still loads.
func TestUnpreparedProgramIsAnError(t *testing.T) {
	needKernel(t)
	path := filepath.Join(t.TempDir(), "missing.bpf.c")
	os.WriteFile(path, []byte(`#define SEC(name) __attribute__((section(name), used))
extern void bpf_lsp_no_such_kfunc(void) __attribute__((section(".ksyms")));
SEC("tc") int uses_missing(void *ctx) { bpf_lsp_no_such_kfunc(); return 0; }
SEC("tc") int plain(void *ctx) { return 0; }
SEC("fentry/bpf_lsp_no_such_function") int no_target(void *ctx) { return 0; }
char _license[] SEC("license") = "GPL";
`), 0o644)
	got := map[string]Result{}
	for _, r := range verifyFile(t, path) {
		got[r.Program] = r
	}
	for prog, want := range map[string]string{
		"uses_missing": "unsupported: kfunc bpf_lsp_no_such_kfunc is not in the running kernel",
		"no_target":    "bpf_lsp_no_such_function: not in the running kernel's BTF",
	} {
		if r := got[prog]; r.Verdict != Failed || !strings.Contains(r.Message, want) {
			t.Errorf("%s: %s %q, want an error saying %q", prog, r.Verdict, r.Message, want)
		}
	}
	if r := got["plain"]; r.Verdict != Accept {
		t.Errorf("plain: %s %q, want accept", r.Verdict, r.Message)
	}
}
