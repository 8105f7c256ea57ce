// Command stress replays hostile and heavy editor sessions against a
// `bpf-lsp serve` process and prints what it measured: an edit storm over
// documents that include vmlinux.h (failed requests, final diagnostics
// against `bpf-lsp check`, RSS), documents opened and closed in turn (RSS
// plateau), adversarial inputs (time to an answer, the server serving
// another document meanwhile), and a JSON-RPC fuzz (process deaths, deaf
// states). It is `make stress`, not part of the quick tests; it exits 1
// when a scenario misses its bound.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/internal/lspclient"
)

func main() {
	bin := flag.String("bin", "./bpf-lsp", "the bpf-lsp binary to drive")
	vmlinux := flag.String("vmlinux", "", "vmlinux.h to include (default: generated with bpftool from /sys/kernel/btf/vmlinux)")
	only := flag.String("run", "storm,openclose,adversarial,fuzz", "comma-separated scenarios to run")
	docs := flag.Int("docs", 50, "documents in the edit storm")
	edits := flag.Int("edits", 10000, "edits in the storm")
	cycles := flag.Int("cycles", 500, "documents opened and closed in turn")
	frames := flag.Int("frames", 100000, "JSON-RPC frames in the fuzz")
	seed := flag.Uint64("seed", 1, "random seed")
	template := flag.String("program", "lsp/testdata/vmlinux.bpf.c", "the BPF program on vmlinux.h the documents are variants of")
	keep := flag.Bool("keep", false, "keep the workspace (documents as saved, server logs) and print where")
	flag.Parse()

	abs, err := filepath.Abs(*bin)
	if err != nil {
		fatal(err)
	}
	ws, err := os.MkdirTemp("", "bpf-lsp-stress-")
	if err != nil {
		fatal(err)
	}
	if *keep {
		fmt.Println("workspace:", ws)
	} else {
		defer os.RemoveAll(ws)
	}
	if err := writeVmlinux(ws, *vmlinux); err != nil {
		fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "compile_flags.txt"), []byte("-target\nbpf\n-D__TARGET_ARCH_x86\n"), 0o644); err != nil {
		fatal(err)
	}
	src, err := os.ReadFile(*template)
	if err != nil {
		fatal(err)
	}
	r := &run{bin: abs, ws: ws, rng: rand.New(rand.NewPCG(*seed, *seed)), programs: programs{string(src)}}
	for _, name := range strings.Split(*only, ",") {
		fmt.Printf("== %s\n", name)
		switch name {
		case "storm":
			r.storm(*docs, *edits)
		case "openclose":
			r.openClose(*cycles)
		case "adversarial":
			r.adversarial()
		case "fuzz":
			r.fuzz(*frames)
		default:
			fatal(fmt.Errorf("unknown scenario %q", name))
		}
	}
	if len(r.failures) > 0 {
		fmt.Printf("\n%d bound(s) missed:\n", len(r.failures))
		for _, f := range r.failures {
			fmt.Println("  -", f)
		}
		os.Exit(1)
	}
	fmt.Println("\nall bounds met")
}

// run is one stress run: the workspace and the bounds missed so far.
type run struct {
	programs
	bin      string
	ws       string
	rng      *rand.Rand
	failures []string
	logs     int
}

// fail records a missed bound.
func (r *run) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Println("FAIL:", msg)
	r.failures = append(r.failures, msg)
}

// start starts a server with its own log file in the workspace.
func (r *run) start(initOptions any) *lspclient.Server {
	r.logs++
	log := filepath.Join(r.ws, fmt.Sprintf("server-%d.log", r.logs))
	s, err := lspclient.Start(lspclient.Config{Argv: []string{r.bin, "serve", "--log-file", log}, Dir: r.ws,
		InitOptions: initOptions, Stderr: os.Stderr})
	if err != nil {
		fatal(err)
	}
	return s
}

// rssMB is the server's current and peak resident set in MB.
func rssMB(s *lspclient.Server) (cur, peak int) {
	cur, peak = s.RSS()
	return cur / 1024, peak / 1024
}

func writeVmlinux(ws, from string) error {
	var data []byte
	var err error
	if from != "" {
		data, err = os.ReadFile(from)
	} else {
		data, err = exec.Command("bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c").Output()
		if err != nil {
			err = fmt.Errorf("generate vmlinux.h with bpftool (or pass -vmlinux): %w", err)
		}
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(ws, "vmlinux.h"), data, 0o644)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "stress:", err)
	os.Exit(2)
}

// programs makes the documents: variants of one small BPF program on
// vmlinux.h with an rbtree add, each with its own program name, the add
// under the lock or not (a finding).
type programs struct{ template string }

func (p programs) program(i int, locked bool) string {
	text := strings.Replace(p.template, "int add(", fmt.Sprintf("int add_%d(", i), 1)
	if locked {
		const add = "\tbpf_rbtree_add_impl("
		text = strings.Replace(text, add, "\tbpf_spin_lock(&glock);\n"+add, 1)
		text = strings.Replace(text, "\treturn 0;\n}\n\nchar _license", "\tbpf_spin_unlock(&glock);\n\treturn 0;\n}\n\nchar _license", 1)
	}
	return text
}
