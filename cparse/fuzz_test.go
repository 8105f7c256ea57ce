package cparse

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary text to the parser, seeded with every prefix of
// a real program (what an editor sends while someone types it). Parse must
// return, without panicking, within a deadline.
func FuzzParse(f *testing.F) {
	src, err := os.ReadFile("../testdata/sched_queue.bpf.c")
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i <= len(src); i++ {
		f.Add(src[:i])
	}
	f.Add([]byte("int f(int *"))
	inc, _ := filepath.Abs("../testdata/include")
	p := NewParser(Options{IncludeDirs: []string{inc}})
	dir := f.TempDir()
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
