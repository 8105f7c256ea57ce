// Command bench measures edit latency and memory of bpf-lsp against
// clangd-19 in the same run: cold open -> first diagnostics, the median of
// warm edits -> diagnostics (the servers' edits interleaved, so machine load
// hits all of them alike) and each server's peak RSS, on a small vmlinux.h
// program, generated 2,000- and 5,000-line files and kernel selftests.
//
//	go run ./internal/bench -bin ./bpf-lsp [-edits 15] [-files rbtree,linked_list] [-cpuprofile DIR]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	bin := flag.String("bin", "./bpf-lsp", "the bpf-lsp binary")
	clangd := flag.String("clangd", "clangd-19", "the clangd binary")
	edits := flag.Int("edits", 15, "warm edits per file and server")
	only := flag.String("files", "", "comma-separated case names to run (default all)")
	corpus := flag.String("corpus", filepath.Join(os.Getenv("HOME"), ".cache/bpf-lsp/realworld/linux-source-6.12"), "linux source tree for the selftest cases")
	rw := flag.String("rw", "/tmp/rw", "directory with vmlinux.h and include/bpf/*.h for the selftests (as COMMON in the realworld harness)")
	timeout := flag.Duration("timeout", 120*time.Second, "longest wait for one publication")
	flag.Parse()
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fatal(err)
	}
	servers := []serverSpec{{"bpf-lsp", []string{abs, "serve"}}}
	if _, err := exec.LookPath(*clangd); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %s not found (apt-get install clangd-19): bpf-lsp alone\n", *clangd)
	} else {
		base := []string{*clangd, "--log=error", "--background-index=false"}
		servers = append(servers, serverSpec{"clangd", base}, serverSpec{"clangd --sync", append(append([]string{}, base...), "--sync")})
	}
	fmt.Printf("| file | server | cold ms | warm median ms | peak RSS MB |\n|---|---|---|---|---|\n")
	for _, c := range cases(*corpus, *rw) {
		if *only != "" && !contains(strings.Split(*only, ","), c.name) {
			continue
		}
		dir, err := os.MkdirTemp("", "bpf-lsp-bench-")
		if err != nil {
			fatal(err)
		}
		path, src, skip := c.setup(dir)
		if skip != "" {
			fmt.Printf("| %s | (skipped: %s) | | | |\n", c.name, skip)
			os.RemoveAll(dir)
			continue
		}
		results, err := run(servers, path, src, *edits, *timeout)
		if err != nil {
			fmt.Printf("| %s | (failed: %v) | | | |\n", c.name, err)
		}
		for _, r := range results {
			fmt.Printf("| %s | %s | %.0f | %.1f | %d |\n", c.name, r.name, ms(r.cold), ms(r.warm), r.rssKB/1024)
		}
		os.RemoveAll(dir)
	}
}

type serverSpec struct {
	name string
	argv []string
}

type result struct {
	name       string
	cold, warm time.Duration
	rssKB      int
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// run starts every server on path, times the open in each, then makes the
// same edits in turn in each server (one edit, every server, next edit).
func run(specs []serverSpec, path, src string, edits int, timeout time.Duration) ([]result, error) {
	var out []result
	var live []*client
	defer func() {
		for _, c := range live {
			c.kill()
		}
	}()
	uri := "file://" + path
	for _, s := range specs {
		c, err := start(s.argv, filepath.Dir(path))
		if err != nil {
			return out, fmt.Errorf("%s: %w", s.name, err)
		}
		live = append(live, c)
		t0 := time.Now()
		c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "c", "version": 1, "text": src}})
		if !c.wait(1, timeout) {
			return out, fmt.Errorf("%s: no diagnostics after opening (%v)", s.name, timeout)
		}
		out = append(out, result{name: s.name, cold: time.Since(t0)})
	}
	warm := make([][]time.Duration, len(live))
	for v := 2; v <= edits+1; v++ {
		// The edit is below every declaration: a user typing in the last
		// function. Each version's text differs, so no server can skip it.
		text := src + "\n// edit " + strconv.Itoa(v) + "\n"
		for i, c := range live {
			t0 := time.Now()
			c.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": uri, "version": v},
				"contentChanges": []map[string]any{{"text": text}}})
			if !c.wait(v, timeout) {
				return out, fmt.Errorf("%s: no diagnostics for version %d (%v)", specs[i].name, v, timeout)
			}
			warm[i] = append(warm[i], time.Since(t0))
		}
	}
	for i, c := range live {
		sort.Slice(warm[i], func(a, b int) bool { return warm[i][a] < warm[i][b] })
		out[i].warm = warm[i][len(warm[i])/2]
		out[i].rssKB = c.peakRSS()
	}
	return out, nil
}

// client speaks just enough LSP over stdio to open, edit and see versioned
// publishDiagnostics.
type client struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	seen  map[int]bool
	resp  chan struct{}
	pub   chan int
}

func start(argv []string, dir string) (*client, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &client{cmd: cmd, stdin: stdin, seen: map[int]bool{}, resp: make(chan struct{}, 1), pub: make(chan int, 1000)}
	go c.read(stdout)
	caps := map[string]any{"textDocument": map[string]any{"publishDiagnostics": map[string]any{"versionSupport": true}}}
	c.write(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize",
		"params": map[string]any{"processId": os.Getpid(), "rootUri": "file://" + dir, "capabilities": caps}})
	select {
	case <-c.resp:
	case <-time.After(60 * time.Second):
		c.kill()
		return nil, errors.New("no answer to initialize")
	}
	c.notify("initialized", map[string]any{})
	return c, nil
}

func (c *client) read(stdout io.Reader) {
	r := bufio.NewReader(stdout)
	for {
		n := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Version *int `json:"version"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &msg) != nil {
			continue
		}
		switch {
		case msg.Method == "textDocument/publishDiagnostics" && msg.Params.Version != nil:
			c.pub <- *msg.Params.Version
		case msg.Method != "" && msg.ID != nil:
			// A request from the server (configuration, progress): answer
			// with null so it does not wait.
			c.write(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": nil})
		case msg.Method == "":
			select {
			case c.resp <- struct{}{}:
			default:
			}
		}
	}
}

func (c *client) write(msg any) {
	b, _ := json.Marshal(msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.stdin, "Content-Length: %d\r\n\r\n%s", len(b), b)
}

func (c *client) notify(method string, params any) {
	c.write(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// wait reports whether diagnostics for version arrived in time.
func (c *client) wait(version int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case v := <-c.pub:
			if v == version {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// peakRSS is the process's high-water resident set in KB (VmHWM).
func (c *client) peakRSS() int {
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	return 0
}

func (c *client) kill() {
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
