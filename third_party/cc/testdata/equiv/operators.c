// Stringizing, token pasting, empty arguments and GNU comma swallowing
// (written for this test).
#define STR(x) #x
#define XSTR(x) STR(x)
#define PASTE(a, b) a ## b
#define PASTE3(a, b, c) a ## b ## c
#define L_PASTE(x) L ## x
#define V 42
const char *s1 = STR(a   +   b);
const char *s2 = STR("quoted \"string\"" 'c' '\'' "\\");
const char *s3 = XSTR(V);
const char *s4 = STR();
const char *s5 = STR(  leading and trailing  );
const char *s6 = STR(/* comment */ x /* another */ y);
int PASTE(var, 1) = PASTE(0x, 1f);
int PASTE3(a, , c) = PASTE(, 3) + PASTE(4, );
int plus = PASTE(+, =) 1, arrow PASTE(-, >) 2;
const int *ls = L_PASTE("wide");
#define E(fmt, ...) printf(fmt, ## __VA_ARGS__)
#define E2(fmt, args...) printf(fmt, ##args)
#define E3(...) f(0, __VA_ARGS__)
void f(void) {
	E("a");
	E("b", 1);
	E("c", 1, 2, (3, 4));
	E2("d");
	E2("e", x, y);
	E3();
	E3(1);
	E3(1, , 3);
}
#define GLUE_NUM(a, b) a##b##.5e+##3
double d = GLUE_NUM(1, 2);
#define HASH_HASH # ## #
#define MKSTR(x) #x
#define INCFILE(x) MKSTR(x.h)
const char *h = INCFILE(name);
#define LINE __LINE__
#define FILE_ __FILE__
int line = LINE; const char *file = FILE_;
int c1 = __COUNTER__, c2 = __COUNTER__;
_Pragma("once") _Pragma("GCC diagnostic push")
#define DO_PRAGMA(x) _Pragma(#x)
DO_PRAGMA(GCC diagnostic ignored "-Wfoo")
// cc/v4 has no __VA_OPT__: both versions must treat it alike.
#define VO(a, ...) g(a __VA_OPT__(,) __VA_ARGS__)
void vo(void) { VO(1); VO(1, 2); }
