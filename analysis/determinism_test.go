package analysis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// TestFindingsAreDeterministic analyses every corpus program repeatedly:
// the findings (which of several leaks a return reports, which lock is
// named first) must not depend on Go's map order.
func TestFindingsAreDeterministic(t *testing.T) {
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}})
	// Several objects leak at one return: one report, always the same one.
	leaks := filepath.Join(t.TempDir(), "leaks.bpf.c")
	if err := os.WriteFile(leaks, []byte(`#include "bpf_lsp.h"
struct a { long x; };
struct b { long y; };
struct c { long z; };
SEC("tc")
int leak3(struct __sk_buff *ctx)
{
	struct a *p = bpf_obj_new(typeof(*p));
	struct b *q = bpf_obj_new(typeof(*q));
	struct c *r = bpf_obj_new(typeof(*r));

	if (!p || !q || !r)
		return 1;
	return 0;
}
char _license[] SEC("license") = "GPL";
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range append(corpusFiles(t, "../testdata", "../testdata/known-gaps"), leaks) {
		f, err := parser.Parse(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		first := fmt.Sprint(Run(f).Findings)
		for range 10 {
			if again := fmt.Sprint(Run(f).Findings); again != first {
				t.Errorf("%s: findings differ between runs:\n%s\n%s", filepath.Base(path), first, again)
				break
			}
		}
	}
}
