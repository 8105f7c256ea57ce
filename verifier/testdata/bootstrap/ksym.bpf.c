// A typed ksym (a per-CPU kernel variable read through its BTF type), an
// untyped ksym (a kernel function's address, from kallsyms) and a __weak
// ksym no kernel has.
#include "common.h"

extern const struct rq runqueues __ksym;
extern const void schedule __ksym;
extern const int bpf_lsp_no_such_symbol __ksym __weak;

u64 out[3];

SEC("raw_tp/sys_enter")
int read_ksyms(void *ctx)
{
	struct rq *rq = bpf_this_cpu_ptr(&runqueues);

	out[0] = rq->nr_running;
	out[1] = (u64)&schedule;
	out[2] = (u64)&bpf_lsp_no_such_symbol;
	return 0;
}
