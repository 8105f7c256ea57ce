#include <bpf/libbpf.h>
#include "../progs/common.h"

int run(const char *path)
{
	return bpf_object__open(path) ? 0 : -1;
}
