#define SEC(name) __attribute__((section(name), used))

SEC("xdp") int prog(void *ctx) { return 2; }
