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
