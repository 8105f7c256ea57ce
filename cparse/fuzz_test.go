package cparse

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary text to the parser, seeded with every prefix of
// a real program (what an editor sends while someone types it) and with
// inputs that once killed, hung or bloated the server: files that never
// end, FIFOs, include cycles, deep nesting, cc/v4's EOF loop. Parse must
// return, without panicking, within a deadline.
func FuzzParse(f *testing.F) {
	src, err := os.ReadFile("../testdata/sched_queue.bpf.c")
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i <= len(src); i++ {
		f.Add(src[:i])
	}
	dir := f.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.h"), 0o644); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"int f(int *",
		"#include \"fuzz.bpf.c\"\nint x;\n",
		"#include \"/dev/zero\"\n",
		"#include \"../../../../../../../../../../dev/zero\"\n",
		"#include \"fifo.h\"\nint x;\n",
		"#include <fifo.h>\n",
		"#include_next <fifo.h>\n#include_next \"nothere.h\"\n",
		"#pragma once\n#include \"fuzz.bpf.c\"\n",
		"int a = " + strings.Repeat("(", 100_000) + "0;\n",
		"int b = " + strings.Repeat("0+", 110_000) + "0;\n",
		"#if " + strings.Repeat("(", 10_000) + "1\n#endif\n",
		"int g(int a) { " + strings.Repeat("if (a) ", 1_000) + "a++; return a; }\n",
		"int s[N(1) ?: 1];\nint t __attribute__((aligned(8), , unused));\n",
		"#define F(fmt, args...) g(fmt, ##args)\nint g(); int h(void) { return F(\"x\"); }\n",
	} {
		f.Add([]byte(s))
	}
	inc, _ := filepath.Abs("../testdata/include")
	p := NewParser(Options{IncludeDirs: []string{inc}, CacheDir: f.TempDir()})
	path := filepath.Join(dir, "fuzz.bpf.c")
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := p.Parse(context.Background(), path, map[string][]byte{path: data}); err != nil {
				t.Errorf("Parse: %v", err)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Parse did not finish within 10s on %q", data)
		}
	})
}
