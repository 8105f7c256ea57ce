package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// BenchmarkWarmEdit is the server's work for one edit below the headers
// (parse with the Parser's caches warm, analysis, kernel findings), in
// process, so a CPU profile shows its phases:
//
//	go test ./internal/bench -run XXX -bench WarmEdit -cpuprofile cpu.out
func BenchmarkWarmEdit(b *testing.B) {
	b.Chdir("../..") // the cases name the repository's files
	for _, c := range cases(os.Getenv("HOME")+"/.cache/bpf-lsp/realworld/linux-source-6.12", "/tmp/rw") {
		path, src, skip := c.setup(b.TempDir())
		// One Parser per file across the runs, as in the server: the cold
		// work (the vmlinux.h index, header caches) stays out of the profile.
		p := cparse.NewParser(cparse.Options{CacheDir: b.TempDir()})
		warm := false
		b.Run(c.name, func(b *testing.B) {
			if skip != "" {
				b.Skip(skip)
			}
			edit := func(i int) {
				text := src + "\n// edit " + strconv.Itoa(i) + "\n"
				f, err := p.Parse(context.Background(), path, map[string][]byte{path: []byte(text)})
				if err != nil {
					b.Fatal(err)
				}
				analysis.Run(f)
			}
			if !warm {
				edit(0)
				warm = true
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				edit(i + 1)
			}
			// CPU time (GC workers included) holds up on a loaded machine
			// where wall time does not.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkColdOpen is the server's work for the first parse of a file
// (a new Parser each time, so no preamble or header cache is warm), then
// its analysis, in process, so a CPU profile shows its phases:
//
//	go test ./internal/bench -run XXX -bench ColdOpen -cpuprofile cpu.out
func BenchmarkColdOpen(b *testing.B) {
	b.Chdir("../..")
	for _, c := range cases(os.Getenv("HOME")+"/.cache/bpf-lsp/realworld/linux-source-6.12", "/tmp/rw") {
		path, src, skip := c.setup(b.TempDir())
		b.Run(c.name, func(b *testing.B) {
			if skip != "" {
				b.Skip(skip)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for range b.N {
				p := cparse.NewParser(cparse.Options{CacheDir: b.TempDir()})
				f, err := p.Parse(context.Background(), path, map[string][]byte{path: []byte(src)})
				if err != nil {
					b.Fatal(err)
				}
				analysis.NewCache().Run(f)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestEditInFunction(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int // of the inserted comment, 0 at the end
	}{
		{"first function body", "struct s {\n\tint a;\n};\n\nSEC(\"tc\")\nint f(void *ctx)\n{\n\tint a = 1;\n\tint b = 2;\n\treturn a + b;\n}\n", 9},
		{"after a continued line", "int f(void)\n{\n#define X \\\n\t1\n\treturn X;\n}\n", 5},
		{"an initializer is not a body", "int a[] =\n{\n\t1,\n};\n", 0},
		{"no function", "int x;", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, line := editInFunction(tc.src, "an edit")
			if line != tc.line {
				t.Fatalf("line = %d, want %d in\n%s", line, tc.line, text)
			}
			lines := strings.Split(text, "\n")
			if line > 0 && !strings.Contains(lines[line-1], "bpf-lsp bench") {
				t.Errorf("line %d is %q, not the edit", line, lines[line-1])
			}
			if strings.Replace(text, "\t/* bpf-lsp bench: an edit */\n", "", 1) != tc.src && line > 0 {
				t.Errorf("the edit changed more than one line:\n%s", text)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	var files []fileTiming
	for i := 1; i <= 100; i++ {
		files = append(files, fileTiming{EditMs: float64(i * 10)})
	}
	files = append(files, fileTiming{EditMs: 1e6, Error: "timeout"}) // left out
	l := summarize(files, func(f fileTiming) float64 { return f.EditMs })
	want := latency{Median: 500, P99: 990, Max: 1000, Over: 80, Over1s: 0}
	if l != want {
		t.Errorf("summarize = %+v, want %+v", l, want)
	}
}

func TestMedianOf(t *testing.T) {
	if medianOf(nil) != nil {
		t.Error("medianOf(nil) != nil")
	}
	m := medianOf([]measure{{ColdMs: 3, WarmMs: 10, PeakRSSMB: 90}, {ColdMs: 1, WarmMs: 30, PeakRSSMB: 70}, {ColdMs: 2, WarmMs: 20, PeakRSSMB: 80}})
	if *m != (measure{ColdMs: 2, WarmMs: 20, PeakRSSMB: 80}) {
		t.Errorf("medianOf = %+v", *m)
	}
}
