package cparse

import "testing"

func TestRewriteElvis(t *testing.T) {
	for in, want := range map[string]string{
		"int a[N(x) ?: 1];": "int a[N(x) ? N(x) : 1];",
		"y = v ?: 2;":       "y = v ? v : 2;",
		"y = (a + b) ?: 2;": "y = (a + b) ?: 2;",
		"y = 3 ?: 2;":       "y = 3 ?: 2;",
		"no elvis ? a : b":  "no elvis ? a : b",
		"f(g(x), (y)) ?: z": "f(g(x), (y)) ? f(g(x), (y)) : z",
	} {
		if got := string(rewriteElvis([]byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

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
