// Hide sets: self-reference, mutual recursion, recursion through arguments
// and the classic examples of the C standard, 6.10.3.5 (written for this test).
#define foo foo
#define bar baz + bar
#define baz bar * 2
int a = foo, b = bar, c = baz;
#define f(a) a*g
#define g(a) f(a)
int d = f(2)(9);
#define x 3
#undef f
#define f(a) f(x * (a))
#undef x
#define x 2
#define g2 f
#define z z[0]
#define h g2(~
#define m(a) a(w)
#define w 0,1
#define t(a) a
#define p() int
#define q(x) x
#define r(x,y) x ## y
#define str(x) # x
int e = f(y+1) + f(f(z)) % t(t(g2)(0) + t)(1);
int e2 = g2(x+(3,4)-w) | h 5) & m
	(f)^m(m);
p() i[q()] = { q(1), r(2,3), r(4,), r(,5), r(,) };
char cs[2][6] = { str(hello), str() };
#define OBJ OBJ + FN(OBJ)
#define FN(x) x + OBJ
int o = OBJ, o2 = FN(FN(1));
#define AA BB
#define BB AA
int ab = AA + BB;
#define LPAREN (
#define CALL(m) m LPAREN 1)
int lp = CALL(F);
#define F(x) <x>
int lp2 = CALL(F);
