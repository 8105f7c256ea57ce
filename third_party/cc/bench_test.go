package cc_test

import (
	"io"
	"os"
	"testing"

	"modernc.org/cc/v4"
)

// BenchmarkPreprocessSelftests preprocesses the sample of the kernel BPF
// selftests that TestPreprocessorEquivalence compares (BPF_LSP_EQUIV_FILES
// chooses others), one file per iteration in turn.
func BenchmarkPreprocessSelftests(b *testing.B) {
	c := selftests(b)
	wd, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	if err := os.Chdir(c.dir); err != nil {
		b.Fatal(err)
	}
	defer os.Chdir(wd)
	cfg := &cc.Config{IncludePaths: c.quoted, SysIncludePaths: c.angle}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sources := []cc.Source{{Name: "<predefined>", Value: c.predefined}, {Name: "<builtin>", Value: cc.Builtin}, {Name: c.files[i%len(c.files)]}}
		cc.Preprocess(cfg, sources, io.Discard)
	}
}
