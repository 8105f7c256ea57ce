package analysis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// TestFindingsAreDeterministic analyses every corpus program repeatedly:
// the findings (which of several leaks a return reports, which lock is
// named first) and the work done (states explored and pruned, callee
// summaries) must not depend on Go's map order.
func TestFindingsAreDeterministic(t *testing.T) {
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}})
	dir := t.TempDir()
	// Several objects leak at one return: one report, always the same one.
	leaks := filepath.Join(dir, "leaks.bpf.c")
	if err := os.WriteFile(leaks, []byte(`#include "bpf_lsp.h"
struct a { long x; };
struct b { long y; };
struct c { long z; };
SEC("tc")
int leak3(struct __sk_buff *ctx)
{
	struct a *p = bpf_obj_new(typeof(*p));
	struct b *q = bpf_obj_new(typeof(*q));
	struct c *r = bpf_obj_new(typeof(*r));

	if (!p || !q || !r)
		return 1;
	return 0;
}
char _license[] SEC("license") = "GPL";
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// Many locks and loops, and static callees entered with objects they
	// cannot tell apart (a global function's pointer parameters): the
	// description of their states must not depend on the order the
	// objects come in.
	buckets := filepath.Join(dir, "buckets.bpf.c")
	if err := os.WriteFile(buckets, []byte(`#include "bpf_lsp.h"
struct elem {
	struct bpf_list_node link;
	long v;
};
struct bucket {
	struct bpf_spin_lock lock;
	struct bpf_list_head head __contains(elem, link);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bucket);
} table SEC(".maps");
private(A) struct bpf_spin_lock glock;
private(A) struct bpf_list_head ghead __contains(elem, link);

static __always_inline int push_pop(struct bpf_spin_lock *lock, struct bpf_list_head *head, bool keep)
{
	struct bpf_list_node *n;
	struct elem *e;
	int i;

	for (i = 0; i < 4; i++) {
		e = bpf_obj_new(typeof(*e));
		if (!e)
			return 1;
		bpf_spin_lock(lock);
		bpf_list_push_front(head, &e->link);
		bpf_spin_unlock(lock);
	}
	for (i = 0; i < 4 && !keep; i++) {
		bpf_spin_lock(lock);
		n = bpf_list_pop_back(head);
		bpf_spin_unlock(lock);
		if (!n)
			return 2;
		bpf_obj_drop(container_of(n, struct elem, link));
	}
	return 0;
}

static __always_inline int test_push_pop(struct bpf_spin_lock *lock, struct bpf_list_head *head)
{
	int ret = push_pop(lock, head, false);

	if (ret)
		return ret;
	return push_pop(lock, head, true);
}

SEC("tc")
int two_buckets(struct __sk_buff *ctx)
{
	__u32 k0 = 0, k1 = 1;
	struct bucket *a, *b;

	a = bpf_map_lookup_elem(&table, &k0);
	if (!a)
		return 0;
	b = bpf_map_lookup_elem(&table, &k1);
	if (!b)
		return 0;
	return test_push_pop(&b->lock, &b->head);
}

SEC("tc")
int global_bucket(struct __sk_buff *ctx)
{
	return test_push_pop(&glock, &ghead);
}

__noinline int given_buckets(struct bucket *a, struct bucket *b, struct bucket *c)
{
	return test_push_pop(&b->lock, &b->head);
}
char _license[] SEC("license") = "GPL";
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range append(corpusFiles(t, "../testdata", "../testdata/known-gaps"), leaks, buckets) {
		f, err := parser.Parse(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := Run(f)
		first, work := fmt.Sprint(r.Findings), r.Stats
		for range 10 {
			r := Run(f)
			if again := fmt.Sprint(r.Findings); again != first {
				t.Errorf("%s: findings differ between runs:\n%s\n%s", filepath.Base(path), first, again)
				break
			}
			if r.Stats != work {
				t.Errorf("%s: the work differs between runs:\n%+v\n%+v", filepath.Base(path), work, r.Stats)
				break
			}
		}
	}
}
