package cparse

import "testing"

func TestRewriteEmptyAttributes(t *testing.T) {
	for in, want := range map[string]string{
		"int x __attribute__((aligned(8), /* c */, cleanup(f)));": "int x __attribute__((aligned(8)  /* c */, cleanup(f)));",
		"int y __attribute__((aligned(8), cleanup(f)));":          "int y __attribute__((aligned(8), cleanup(f)));",
		"int z __attribute__((unused,));":                         "int z __attribute__((unused ));",
		"#define A __attribute__((a, \\\n , b))":                  "#define A __attribute__((a  \\\n , b))",
	} {
		if got := string(rewriteEmptyAttributes([]byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// Constructs clang accepts that cc/v4 needed a header rewrite, a
// predefined macro or a patch (third_party/cc/PATCHES.md) for.
func TestCCGaps(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "inc/helpers.h", `#define __uint(name, val) int (*name)[val]
#define __array(name, val) typeof(val) *name[]
#define narg(...) 2
#define it_for(i) for (int i __attribute__((aligned(8), /* just in case */, unused)) = 0; i < 2; i++)
#define assert_pos(x) ({ __label__ l_true; if (x) goto l_true; l_true: ; })
#define dbg(fmt, args...) printk_like(fmt, ##args)
int printk_like(const char *fmt, ...);
`)
	path := write(t, dir, "prog.bpf.c", `#include "inc/helpers.h"
struct {
	__uint(max_entries, 4);
	__array(values, void (void));
} jmp_table;
int f(int a)
{
	unsigned long long params[narg(a, a) ?: 1] = {};
	int sum = a ?: 1;
	__typeof_unqual__(sum) copy = sum;
	_Static_assert(__builtin_constant_p(a) || 1, "x");
	it_for(i)
		sum += i;
	assert_pos(a);
	assert_pos(sum);
	dbg("x");
	dbg("%d %d %d %d", a, sum, copy, (int)params[0]);
	return sum;
}
`)
	f := parse(t, NewParser(Options{}), path, nil)
	if f.AST == nil || len(f.Errors) > 0 {
		t.Fatalf("%+v", f.Errors)
	}
}

func TestConstantByteSwap(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "prog.bpf.c", `int f(int proto)
{
	switch (proto) {
	case __builtin_bswap16(0x0800):
		return 1;
	case __builtin_bswap32(0x86DD):
		return 2;
	}
	_Static_assert(__builtin_bswap64(1) != 1, "");
	return __builtin_bswap16(proto);
}
int bad = (__builtin_bswap16(0x0102) == 0x0201) ? 1 : -1;
char check[(__builtin_bswap32(0x01020304) == 0x04030201) ? 1 : -1];
`)
	f := parse(t, NewParser(Options{}), path, nil)
	if f.AST == nil || len(f.Errors) > 0 {
		t.Fatalf("%+v", f.Errors)
	}
}
