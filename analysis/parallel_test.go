package analysis

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// TestParallelMatchesSerial analyses every test program and a sample of
// the kernel selftests with four goroutines whatever the number of
// programs, and through a Cache (cold, then all reused): each result must
// equal the serial one field by field. Run with -race, it finds state the
// programs' analyses share.
func TestParallelMatchesSerial(t *testing.T) {
	serial := func(int) int { return 1 }
	four := func(int) int { return 4 }
	check := func(parser *cparse.Parser, files []string) {
		for _, path := range files {
			abs, _ := filepath.Abs(path)
			f, err := parser.Parse(context.Background(), abs, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := run(f, nil, serial)
			cache := NewCache()
			for i, got := range []*Result{run(f, nil, four), run(f, cache, four), run(f, cache, four)} {
				got.Stats.Cached = 0
				if !reflect.DeepEqual(want, got) {
					t.Errorf("%s: parallel run %d differs from the serial one\nserial: %s\nparallel: %s", filepath.Base(path), i, describe(want), describe(got))
				}
			}
		}
	}
	check(cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}}),
		append(corpusFiles(t, "../testdata", "../testdata/known-gaps"), corpusFiles(t, "../lsp/testdata")...))
	if sample, dir := corpusSample(); len(sample) > 0 {
		check(cparse.NewParser(cparse.Options{IncludeDirs: []string{"/tmp/rw", dir, dir + "/../../../include/uapi", "/tmp/rw/include", dir + "/../../../include"},
			AfterDirs: []string{"/usr/include/x86_64-linux-gnu"}}), sample)
	}
}

// TestParallelPanic checks that a program whose analysis panics on a
// worker raises the panic on the caller's goroutine, where the language
// server recovers it.
func TestParallelPanic(t *testing.T) {
	f := parseSource(t, `#include "bpf_lsp.h"
SEC("tc")
int prog(struct __sk_buff *ctx) { return 0; }
`)
	jobs := []unitJob{{fn: f.Funcs[0], entry: true, at: 0}, {fn: nil, entry: true, at: 1}, {fn: f.Funcs[0], entry: true, at: 2}}
	defer func() {
		if recover() == nil {
			t.Error("the panic of a program's analysis was lost")
		}
	}()
	analyzeUnits(f, buildClasses(f), jobs, make([]*unitResult, len(jobs)), 2)
}
