package analysis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// TestParallelMatchesSerial analyses every test program, one of many
// programs and a sample of the kernel selftests with four goroutines
// whatever the number of programs, and through a Cache (cold, then all
// reused): each result must equal the serial one field by field. Run with
// -race, it finds state the programs' analyses share.
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
			// In parallel first: the file's types memoise on first use.
			first := run(f, nil, four)
			want := run(f, nil, serial)
			cache := NewCache()
			for i, got := range []*Result{first, run(f, cache, four), run(f, cache, four)} {
				got.Stats.Cached = 0
				if !reflect.DeepEqual(want, got) {
					t.Errorf("%s: parallel run %d differs from the serial one\nserial: %s\nparallel: %s", filepath.Base(path), i, describe(want), describe(got))
				}
			}
		}
	}
	// Files of many programs on their own struct types: a whole
	// translation's types memoise what they are first asked, once per
	// file, so the goroutines race on that only in some of them.
	files := append(corpusFiles(t, "../testdata", "../testdata/known-gaps"), corpusFiles(t, "../lsp/testdata")...)
	for n := range 16 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("many%d.bpf.c", n))
		if err := os.WriteFile(path, []byte(manyPrograms(n)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	check(cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}}), files)
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
	prog := f.Func("prog")
	jobs := []unitJob{{fn: prog, entry: true, at: 0}, {fn: nil, entry: true, at: 1}, {fn: prog, entry: true, at: 2}}
	defer func() {
		if recover() == nil {
			t.Error("the panic of a program's analysis was lost")
		}
	}()
	analyzeUnits(f, buildClasses(f), jobs, make([]*unitResult, len(jobs)), 2)
}

// manyPrograms is a file of programs that push onto a locked list, tag
// apart from the other files'.
func manyPrograms(tag int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#include \"bpf_lsp.h\"\nstruct item%d {\n\tstruct bpf_list_node link;\n\t__u64 value;\n};\n", tag)
	fmt.Fprintf(&b, "private(L) struct bpf_spin_lock lock;\nprivate(L) struct bpf_list_head head __contains(item%d, link);\n", tag)
	for i := range 32 {
		fmt.Fprintf(&b, "SEC(\"tc\")\nint push_%d(struct __sk_buff *ctx)\n{\n\tstruct item%d *it = bpf_obj_new(typeof(*it));\n\n"+
			"\tif (!it)\n\t\treturn 0;\n\tit->value = ctx->len + %d;\n\tbpf_spin_lock(&lock);\n"+
			"\tbpf_list_push_back(&head, &it->link);\n\tbpf_spin_unlock(&lock);\n\treturn 0;\n}\n", i, tag, i)
	}
	b.WriteString("char _license[] SEC(\"license\") = \"GPL\";\n")
	return b.String()
}
