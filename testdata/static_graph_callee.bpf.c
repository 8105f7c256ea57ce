// kernel: accept
// Graph operations inside static __noinline functions that the caller
// invokes with the lock held: the verifier follows the call with the
// caller's lock state, so the callee's list and tree calls are covered.
#include "bpf_lsp.h"

struct ev {
	struct bpf_rb_node by_ts;
	struct bpf_list_node fifo;
	struct bpf_refcount ref;
	__u64 ts;
};

private(E) struct bpf_spin_lock ev_lock;
private(E) struct bpf_rb_root by_ts __contains(ev, by_ts);
private(E) struct bpf_list_head fifo __contains(ev, fifo);
private(E) __u32 nr_events __guarded_by(ev_lock);

static bool ts_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct ev, by_ts)->ts < container_of(b, struct ev, by_ts)->ts;
}

/* Called with ev_lock held: inserts e in both collections. */
static __noinline void ev_insert(struct ev *e, struct ev *alias)
{
	bpf_rbtree_add(&by_ts, &e->by_ts, ts_less);
	bpf_list_push_back(&fifo, &alias->fifo);
	nr_events++;
}

/* Called with ev_lock held: the oldest timestamp, or 0. */
static __noinline __u64 ev_oldest(void)
{
	struct bpf_rb_node *n = bpf_rbtree_first(&by_ts);

	if (!n)
		return 0;
	return container_of(n, struct ev, by_ts)->ts;
}

SEC("tc")
int record(struct __sk_buff *ctx)
{
	struct ev *e = bpf_obj_new(typeof(*e));
	struct ev *alias;

	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	alias = bpf_refcount_acquire(e);
	if (!alias) {
		bpf_obj_drop(e);
		return 0;
	}
	bpf_spin_lock(&ev_lock);
	ev_insert(e, alias);
	bpf_spin_unlock(&ev_lock);
	return 0;
}

SEC("tc")
int age(struct __sk_buff *ctx)
{
	__u64 oldest;

	bpf_spin_lock(&ev_lock);
	oldest = ev_oldest();
	bpf_spin_unlock(&ev_lock);
	return oldest ? 1 : 0;
}

char _license[] SEC("license") = "GPL";
