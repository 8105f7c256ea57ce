package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bpf-lsp/bpf-lsp/internal/lspclient"
)

// openClose opens documents on vmlinux.h one at a time, waits for their
// diagnostics and closes them, printing the RSS every tenth of the way:
// it must level off, not grow with the number of documents seen.
func (r *run) openClose(n int) {
	dir := filepath.Join(r.ws, "openclose")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "compile_flags.txt"), []byte("-target\nbpf\n-I"+r.ws+"\n"), 0o644)
	s := r.start(nil)
	defer s.Stop()
	t0 := time.Now()
	var samples []int
	for i := range n {
		path := filepath.Join(dir, fmt.Sprintf("doc%03d.bpf.c", i))
		u := lspclient.FileURI(path)
		s.Open(u, r.program(i, i%3 != 0))
		if _, ok := s.WaitVersion(u, 1, 60*time.Second); !ok {
			r.fail("openclose: no diagnostics for document %d", i)
			return
		}
		s.Close(u)
		if (i+1)%max(n/10, 1) == 0 {
			cur, _ := rssMB(s)
			samples = append(samples, cur)
		}
	}
	time.Sleep(3 * time.Second)
	end, peak := rssMB(s)
	fmt.Printf("%d documents opened and closed in %.1fs; RSS every %d: %v MB; 3 s later %d MB; peak %d MB\n",
		n, time.Since(t0).Seconds(), max(n/10, 1), samples, end, peak)
	if len(samples) >= 4 {
		// A plateau: the last samples are no higher than the middle ones
		// plus a margin, and nowhere near the 2 GB of a leak.
		mid, last := samples[len(samples)/2], samples[len(samples)-1]
		if last > mid+50 || peak > 500 {
			r.fail("openclose: RSS grows (%d MB at half-way, %d MB at the end, peak %d MB)", mid, last, peak)
		}
	}
}
