package analysis

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// parseSource parses an in-memory program (through the parser's overlay)
// with the testdata's headers; it must have no C errors.
func parseSource(t *testing.T, src string) *cparse.File {
	t.Helper()
	inc, _ := filepath.Abs("../testdata/include")
	path := filepath.Join(t.TempDir(), "t.bpf.c")
	f, err := cparse.NewParser(cparse.Options{IncludeDirs: []string{inc}}).Parse(context.Background(), path, map[string][]byte{path: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Errors) > 0 {
		t.Fatalf("C errors: %+v", f.Errors)
	}
	return f
}

// runSource analyses an in-memory program.
func runSource(t *testing.T, src string) *Result { return Run(parseSource(t, src)) }

// A guard on a pointer covers what it points to: dereferences need the
// lock, reading the pointer does not. (No kernel-loadable program can
// dereference a plain pointer kept in a map value, so this case lives here
// rather than in the kernel-checked corpus.)
func TestPointeeGuard(t *testing.T) {
	src := `#include "bpf_lsp.h"
private(A) struct bpf_spin_lock glock;
private(A) long *__guarded_by(glock) gptr;
struct box {
	struct bpf_spin_lock lock;
	long *__guarded_by(lock) vals;
};
long use(struct box *b)
{
	long x = 0;
	if (gptr)
		x = *gptr;
	bpf_spin_lock(&glock);
	x += gptr[1];
	bpf_spin_unlock(&glock);
	x += b->vals[0];
	bpf_spin_lock(&b->lock);
	b->vals[2] = x;
	bpf_spin_unlock(&b->lock);
	return x;
}
`
	var got []string
	for _, f := range runSource(t, src).Findings {
		got = append(got, f.Code+"@"+strconv.Itoa(f.Span.Start.Line)+" "+f.Message)
	}
	want := []string{"BL208@12 reading '*gptr' requires holding 'glock'", "BL208@16 reading 'b->vals[0]' requires holding 'b->lock'"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
