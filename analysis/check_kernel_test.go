package analysis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/kernels"
)

// rbAdd is rb_add_locked with the insertion spelled as CALL.
func rbAdd(call string) string {
	return `#include "bpf_lsp.h"
#undef bpf_rbtree_add
extern int bpf_rbtree_add(struct bpf_rb_root *root, struct bpf_rb_node *node,
			  bool (less)(struct bpf_rb_node *a, const struct bpf_rb_node *b)) __ksym;
struct node_data { long key; struct bpf_rb_node node; };
private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);
static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b) { return a < b; }
SEC("tc")
int add(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));

	if (!n)
		return 0;
	bpf_spin_lock(&glock);
	` + call + `;
	bpf_spin_unlock(&glock);
	return 0;
}
char _license[] SEC("license") = "GPL";
`
}

// kernelFindings analyses src for targets and returns the findings of
// the kernel rules, with the source after applying each one's fix.
func kernelFindings(t *testing.T, src string, targets ...*kernels.Target) ([]Finding, []string) {
	t.Helper()
	f := parseSource(t, src)
	var out []Finding
	var fixed []string
	for _, fd := range ForKernels(f, Run(f), targets) {
		if !strings.HasPrefix(fd.Code, "BL4") {
			continue
		}
		out = append(out, fd)
		if len(fd.Fixes) == 1 {
			b, err := applyEdits([]byte(src), fd.Fixes[0].Edits)
			if err != nil {
				t.Fatal(err)
			}
			fixed = append(fixed, string(b))
		}
	}
	return out, fixed
}

func target(t *testing.T, spec string) *kernels.Target {
	t.Helper()
	k, err := kernels.OpenTarget(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestUnavailableCalls(t *testing.T) {
	// 6.12 has only the _impl form: the plain call gets a fix to it.
	fds, fixed := kernelFindings(t, rbAdd("bpf_rbtree_add(&groot, &n->node, less)"), target(t, "6.12"))
	if len(fds) != 1 || fds[0].Code != codeCallUnavailable || !strings.Contains(fds[0].Message, "kfunc bpf_rbtree_add is not available on kernel 6.12; it first appears in 7.1") {
		t.Fatalf("6.12: %+v", fds)
	}
	if len(fixed) != 1 || !strings.Contains(fixed[0], "bpf_rbtree_add_impl(&groot, &n->node, less, NULL, 0);") {
		t.Fatalf("fix: %v", fixed)
	}
	if fds, _ := kernelFindings(t, fixed[0], target(t, "6.12")); len(fds) != 0 {
		t.Errorf("the fixed program still gets %+v", fds)
	}

	// A program that tests for the kfunc first is left alone.
	probed := strings.Replace(rbAdd("bpf_rbtree_add(&groot, &n->node, less)"), "\tbpf_spin_lock(&glock);", "\tif (!bpf_ksym_exists(bpf_rbtree_add))\n\t\treturn 0;\n\tbpf_spin_lock(&glock);", 1)
	probed = "#define bpf_ksym_exists(sym) (!!(sym))\n" + probed
	if fds, _ := kernelFindings(t, probed, target(t, "6.12")); len(fds) != 0 {
		t.Errorf("a call guarded by bpf_ksym_exists: %+v", fds)
	}

	// 6.1 and 5.10 lack the graph kfuncs and locks in global data; one
	// finding per site names both.
	fds, _ = kernelFindings(t, rbAdd("bpf_rbtree_add_impl(&groot, &n->node, less, NULL, 0)"), target(t, "6.1"), target(t, "5.10"))
	var msgs []string
	for _, fd := range fds {
		msgs = append(msgs, fd.Code+" "+fd.Message+" "+fd.Kernel)
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{
		"BL401 kfunc bpf_obj_new_impl (from bpf_obj_new) is not available on kernels 5.10, 6.1; it first appears in 6.2",
		"BL401 kfunc bpf_rbtree_add_impl is not available on kernels 5.10, 6.1; it first appears in 6.4",
		"BL402 'glock' is a bpf_spin_lock in global data (section .data.A), which kernels 5.10, 6.1 cannot lock; locks in global data need 6.2 map '.data.A' is not a struct type or bpf_spin_lock is mangled",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("5.10+6.1 findings lack %q:\n%s", want, got)
		}
	}

	// The map 5.10 names is the lock's own section.
	fds, _ = kernelFindings(t, strings.ReplaceAll(rbAdd("bpf_rbtree_add_impl(&groot, &n->node, less, NULL, 0)"), "private(A)", "private(Q)"), target(t, "5.10"))
	var quoted []string
	for _, fd := range fds {
		if fd.Code == codeGlobalLockTooOld {
			quoted = append(quoted, fd.Kernel)
		}
	}
	if len(quoted) != 1 || quoted[0] != "map '.data.Q' is not a struct type or bpf_spin_lock is mangled" {
		t.Errorf("5.10 quotes %q", quoted)
	}

	// A vmlinux.h with only the plain kfunc: the _impl call is switched
	// to it, its trailing arguments dropped.
	header := filepath.Join(t.TempDir(), "vmlinux.h")
	os.WriteFile(header, []byte("enum bpf_func_id {\n\tBPF_FUNC_spin_lock = 93,\n\tBPF_FUNC_spin_unlock = 94,\n};\n"+
		"extern int bpf_rbtree_add(struct bpf_rb_root *root, struct bpf_rb_node *node, void *less) __weak __ksym;\n"+
		"extern void *bpf_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __weak __ksym;\n"), 0o644)
	fds, fixed = kernelFindings(t, rbAdd("bpf_rbtree_add_impl(&groot, &n->node, less, NULL, 0)"), target(t, header))
	if len(fds) != 1 || len(fixed) != 1 || !strings.Contains(fixed[0], "\tbpf_rbtree_add(&groot, &n->node, less);") {
		t.Fatalf("vmlinux.h target: %+v\n%v", fds, fixed)
	}
}

func TestKernelMessageByVersion(t *testing.T) {
	// Every message whose wording differs between releases, on each
	// side of the change (measured on the catalogued kernels where a
	// program hits it; from verifier.c otherwise).
	for _, tc := range []struct {
		code, msg, version, want string
	}{
		{codeLockHeldAtExit, RuleByCode(codeLockHeldAtExit).Kernel, "6.1", "bpf_spin_unlock is missing"},
		{codeLockHeldAtExit, RuleByCode(codeLockHeldAtExit).Kernel, "6.12", "bpf_spin_unlock is missing"},
		{codeLockHeldAtExit, RuleByCode(codeLockHeldAtExit).Kernel, "7.3", RuleByCode(codeLockHeldAtExit).Kernel},
		{codeCallUnderLock, kernelGlobalCallUnderLock, "6.1", kernelCallUnderLock},
		{codeCallUnderLock, kernelGlobalCallUnderLock, "6.12", kernelGlobalCallUnderLock},
		{codeCallUnderLock, kernelCallUnderLock, "6.1", kernelCallUnderLock}, // a helper: never changed
		{codeLockInCallback, kernelRemoveInCallback, "6.12", "rbtree_remove not allowed in rbtree cb"},
		{codeLockInCallback, kernelRemoveInCallback, "7.3", kernelRemoveInCallback},
		{codeLockInCallback, kernelCallUnderLock, "6.12", kernelCallUnderLock},
		{codeUseAfterUnlock, kernelRemoveInvalidNode, "6.12", "rbtree_remove node input must be non-owning ref"},
		{codeUseAfterUnlock, kernelRemoveInvalidNode, "7.2", kernelRemoveInvalidNode},
		{codeUseAfterUnlock, "R6 invalid mem access 'scalar'", "6.12", "R6 invalid mem access 'scalar'"},
		{codeGlobalLockTooOld, "map '.data.A' is not a struct type or bpf_spin_lock is mangled", "6.1", "bpf_spin_unlock of different lock"},
	} {
		if got := RuleByCode(tc.code).Reword(tc.msg, mustVersion(tc.version)); got != tc.want {
			t.Errorf("%s %q on %s: %q, want %q", tc.code, tc.msg, tc.version, got, tc.want)
		}
	}
	if got := RuleByCode(codeGraphUnlocked).KernelFor(mustVersion("6.1")); got != RuleByCode(codeGraphUnlocked).Kernel {
		t.Errorf("a rule without versioned wording changed: %q", got)
	}
}

// A global function called under a lock: the finding quotes the target
// kernel's message.
func TestKernelMessageOfTarget(t *testing.T) {
	src := `#include "bpf_lsp.h"
private(A) struct bpf_spin_lock glock;
__noinline int work(struct __sk_buff *ctx) { return ctx->len; }
SEC("tc")
int prog(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	work(ctx);
	bpf_spin_unlock(&glock);
	return 0;
}
char _license[] SEC("license") = "GPL";
`
	f := parseSource(t, src)
	res := Run(f)
	for v, want := range map[string]string{"6.1": kernelCallUnderLock, "6.12": kernelGlobalCallUnderLock} {
		var got []string
		for _, fd := range ForKernels(f, res, []*kernels.Target{target(t, v)}) {
			if fd.Code == codeCallUnderLock {
				got = append(got, fd.Kernel)
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("on %s: BL207 quotes %q, want %q", v, got, want)
		}
	}
}

// A kfunc renamed away (cgroup_rstat_flush became css_rstat_flush) is
// reported as removed on the newer kernel.
func TestRemovedCall(t *testing.T) {
	src := `#include "bpf_lsp.h"
struct cgroup;
extern void cgroup_rstat_flush(struct cgroup *cgrp) __ksym;
SEC("tc")
int flush(struct __sk_buff *ctx)
{
	cgroup_rstat_flush((struct cgroup *)0);
	return 0;
}
char _license[] SEC("license") = "GPL";
`
	fds, _ := kernelFindings(t, src, target(t, "7.3"))
	if len(fds) != 1 || fds[0].Message != "kfunc cgroup_rstat_flush is not available on kernel 7.3; it was removed after 6.12" {
		t.Fatalf("%+v", fds)
	}
	if fds, _ := kernelFindings(t, src, target(t, "6.12")); len(fds) != 0 {
		t.Fatalf("6.12 has it: %+v", fds)
	}
}

// Before 6.9 a static function may not be called under a lock either.
func TestStaticCallUnderLockOnOldKernel(t *testing.T) {
	src := `#include "bpf_lsp.h"
private(A) struct bpf_spin_lock glock;
private(A) __u64 count;
static __noinline void bump(void) { count++; }
static __always_inline void bump_inline(void) { count++; }
SEC("tc")
int prog(struct __sk_buff *ctx)
{
	bump();
	bpf_spin_lock(&glock);
	bump();
	bump_inline();
	bpf_spin_unlock(&glock);
	return 0;
}
char _license[] SEC("license") = "GPL";
`
	f := parseSource(t, src)
	res := Run(f)
	calls := func(v string) []Finding {
		var out []Finding
		for _, fd := range ForKernels(f, res, []*kernels.Target{target(t, v)}) {
			if fd.Code == codeCallUnderLock {
				out = append(out, fd)
			}
		}
		return out
	}
	got := calls("6.1")
	if len(got) != 1 || got[0].Span.Start.Line != 11 || got[0].Kernel != kernelCallUnderLock ||
		!strings.Contains(got[0].Message, "calling static function bump while holding 'glock': kernel 6.1 refuses every call") {
		t.Errorf("6.1: %+v", got)
	}
	if got := calls("6.12"); len(got) != 0 {
		t.Errorf("6.12 allows static calls under a lock: %+v", got)
	}
}
