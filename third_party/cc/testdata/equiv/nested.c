// Nested function-like macros, argument pre-expansion, rescanning and
// argument counting in the style of libbpf's BPF_PROG (written for this test).
#define CAT(a, b) a##b
#define XCAT(a, b) CAT(a, b)
#define NTH(_, _1, _2, _3, _4, _5, _6, _7, _8, N, ...) N
#define NARG(...) NTH(_, ##__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define APPLY(fn, n) XCAT(fn, n)
#define CAST0()
#define CAST1(x) (long)ctx[0]
#define CAST2(x, args...) CAST1(args), (long)ctx[1]
#define CAST3(x, args...) CAST2(args), (long)ctx[2]
#define CAST4(x, args...) CAST3(args), (long)ctx[3]
#define CAST5(x, args...) CAST4(args), (long)ctx[4]
#define CAST6(x, args...) CAST5(args), (long)ctx[5]
#define CAST(args...) APPLY(CAST, NARG(args))(args)
#define DECL0()
#define DECL1(t, x) , t x
#define DECL2(t, x, args...) , t x DECL1(args)
#define DECL3(t, x, args...) , t x DECL2(args)
#define DECL(args...) APPLY(DECL, NARG(args))(args)
#define PROG(name, args...) \
	int name(unsigned long long *ctx); \
	static inline int ____##name(unsigned long long *ctx, ##args); \
	int name(unsigned long long *ctx) { return ____##name(ctx, CAST(args)); } \
	static inline int ____##name(unsigned long long *ctx, ##args)
#define PROG2(name, args...) int name(void *ctx DECL(args))

PROG(p0) { return 0; }
PROG(p1, int a) { return a; }
PROG(p6, int a, long b, char *c, short d, void *e, unsigned f) { return a + b; }
PROG2(q3, int, a, long, b, struct s *, c);
int n0 = NARG(), n3 = NARG(a, b, c), n8 = NARG(1, 2, 3, 4, 5, 6, 7, 8);
int paren = NARG((a, b), [c, d], {e, f});
#define EMPTY
#define F(x) [x]
int e1 = F(EMPTY) F() F( ) F((EMPTY));
#define G(x, y) x y
int g = G(F(1) F(2), F(F(3)));
#define H(x) x
#define I H(H)(1)
int i = I;
