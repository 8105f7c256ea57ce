package analysis

import (
	"fmt"
	"strings"
	"testing"
)

const lockLoop = `#include "bpf_lsp.h"
private(A) struct bpf_spin_lock glock;
private(A) __u64 total __guarded_by(glock);

SEC("tc")
int sum(struct __sk_buff *ctx)
{
	int i;

	for (i = 0; i < ctx->len; i++) {
		bpf_spin_lock(&glock);
		total += i;
		bpf_spin_unlock(&glock);
	}
	return 0;
}
char _license[] SEC("license") = "GPL";
`

// A loop that takes a lock reaches its fixpoint whatever its trip count:
// the lock's acquisition order is not part of the state, and the counter's
// known value is forgotten after widenAfter entries of the loop head, so
// the head's state repeats and is pruned.
func TestLockLoopConverges(t *testing.T) {
	r := runSource(t, lockLoop)
	if len(r.Findings) != 0 {
		t.Fatalf("unexpected findings: %v", r.Findings)
	}
	// Per entry of the head: the head, the body, the increment, the exit
	// branch; one more entry after widening repeats and is pruned.
	const perIteration = 4
	if limit := perIteration*(widenAfter+2) + 2; r.Stats.Explored > limit || r.Stats.Pruned == 0 {
		t.Errorf("loop explored %d states, pruned %d; want at most %d with pruning", r.Stats.Explored, r.Stats.Pruned, limit)
	}
}

// A static callee called from many sites in the same state is explored once.
func TestStaticCalleeSummaries(t *testing.T) {
	var calls strings.Builder
	for range 10 {
		calls.WriteString("\tbump();\n")
	}
	src := `#include "bpf_lsp.h"
private(A) struct bpf_spin_lock glock;
private(A) __u64 total __guarded_by(glock);

static __noinline void bump(void)
{
	bpf_spin_lock(&glock);
	total++;
	bpf_spin_unlock(&glock);
}

SEC("tc")
int many(struct __sk_buff *ctx)
{
` + calls.String() + `	return 0;
}
char _license[] SEC("license") = "GPL";
`
	r := runSource(t, src)
	if len(r.Findings) != 0 {
		t.Fatalf("unexpected findings: %v", r.Findings)
	}
	if r.Stats.Summaries != 1 || r.Stats.Reused != 9 {
		t.Errorf("bump explored %d times, reused %d; want once, reused 9 times", r.Stats.Summaries, r.Stats.Reused)
	}
}

// Paths that never become equal exhaust the budget: the analysis stops with
// an info finding instead of running on.
func TestBudgetStopsWithInfo(t *testing.T) {
	var body strings.Builder
	for i := range 18 {
		fmt.Fprintf(&body, "\tint f%d = 0;\n\tif (ctx->mark & %d)\n\t\tf%d = 1;\n", i, 1<<i, i)
	}
	body.WriteString("\treturn f0")
	for i := 1; i < 18; i++ {
		fmt.Fprintf(&body, " + f%d", i)
	}
	body.WriteString(";\n")
	src := "#include \"bpf_lsp.h\"\nSEC(\"tc\")\nint wide(struct __sk_buff *ctx)\n{\n" + body.String() + "}\nchar _license[] SEC(\"license\") = \"GPL\";\n"
	r := runSource(t, src)
	if len(r.Findings) != 1 || r.Findings[0].Code != codeNotChecked || r.Findings[0].Severity != SevInfo {
		t.Fatalf("want one BL003 info finding, got %v", r.Findings)
	}
	if !strings.Contains(r.Findings[0].Message, "analysis of wide stopped after") {
		t.Errorf("message: %s", r.Findings[0].Message)
	}
	if r.Stats.Explored > stepBudget+1 {
		t.Errorf("explored %d states, budget %d", r.Stats.Explored, stepBudget)
	}
}

// `x < 0` being false says x >= 0, not that x is zero: the path goes on
// with x's value intact (a bug after the test is still found).
func TestNegativeTestKeepsValue(t *testing.T) {
	src := `#include "bpf_lsp.h"
private(A) struct bpf_spin_lock glock;

SEC("tc")
int prog(struct __sk_buff *ctx)
{
	int v = 5;

	if (v < 0)
		return 1;
	bpf_spin_lock(&glock);
	if (v)
		return 0;
	bpf_spin_unlock(&glock);
	return 2;
}
char _license[] SEC("license") = "GPL";
`
	r := runSource(t, src)
	if len(r.Findings) != 1 || r.Findings[0].Code != codeLockHeldAtExit || r.Findings[0].Span.Start.Line != 13 {
		t.Errorf("want one BL203 at line 13, got %v", r.Findings)
	}
}
