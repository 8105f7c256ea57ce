package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bpf-lsp/bpf-lsp/internal/lspclient"
)

// doc is one document the stress client edits.
type doc struct {
	path    string
	uri     string
	text    string
	version int32
}

// edit changes the text somewhere, as typing does, and returns the LSP
// change: a line inserted or deleted, a lock call added, a stray
// character.
func (r *run) edit(d *doc) map[string]any {
	lines := strings.SplitAfter(d.text, "\n")
	at := r.rng.IntN(len(lines))
	col, endLine, endCol := 0, at, 0
	var text string
	switch k := r.rng.IntN(10); {
	case k < 3:
		text = fmt.Sprintf("\t// edit %d\n", d.version)
	case k < 5:
		text = []string{"\tbpf_spin_lock(&glock);\n", "\tbpf_spin_unlock(&glock);\n", "\tn->key++;\n"}[r.rng.IntN(3)]
	case k < 7 && at < len(lines)-1:
		endLine = at + 1 // delete the line
	default:
		col = r.rng.IntN(len(strings.TrimSuffix(lines[at], "\n")) + 1)
		endCol = col
		text = string("x;({ )}"[r.rng.IntN(7)])
	}
	offset := func(line, c int) int {
		n := c
		for _, l := range lines[:line] {
			n += len(l)
		}
		return n
	}
	a, b := offset(at, col), offset(endLine, endCol)
	d.text = d.text[:a] + text + d.text[b:]
	d.version++
	pos := func(line, c int) map[string]any { return map[string]any{"line": line, "character": c} }
	return map[string]any{"textDocument": map[string]any{"uri": d.uri, "version": d.version},
		"contentChanges": []map[string]any{{"range": map[string]any{"start": pos(at, col), "end": pos(endLine, endCol)}, "text": text}}}
}

// storm opens n documents on vmlinux.h, sends edits to random documents as
// fast as the server reads them with a request every tenth edit (every
// fifth request cancelled), saves, and compares the final diagnostics with
// `bpf-lsp check` on the saved files.
func (r *run) storm(n, edits int) {
	dir := filepath.Join(r.ws, "storm")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "compile_flags.txt"), []byte("-target\nbpf\n-I"+r.ws+"\n"), 0o644)
	s := r.start(nil)
	defer s.Stop()
	docs := make([]*doc, n)
	t0 := time.Now()
	for i := range docs {
		path := filepath.Join(dir, fmt.Sprintf("doc%02d.bpf.c", i))
		docs[i] = &doc{path: path, uri: lspclient.FileURI(path), text: r.program(i, i%2 == 0), version: 1}
		s.Open(docs[i].uri, docs[i].text)
	}
	for _, d := range docs {
		if _, ok := s.WaitVersion(d.uri, 1, 300*time.Second); !ok {
			r.fail("storm: no diagnostics for %s after opening", filepath.Base(d.path))
		}
	}
	cur, peak := rssMB(s)
	fmt.Printf("opened %d documents in %.1fs: RSS %d MB (peak %d MB)\n", n, time.Since(t0).Seconds(), cur, peak)

	type sent struct {
		ch     chan lspclient.Response
		method string
	}
	var requests []sent
	methods := []string{"textDocument/hover", "textDocument/documentSymbol", "textDocument/inlayHint", "textDocument/codeAction"}
	t0 = time.Now()
	for e := range edits {
		d := docs[r.rng.IntN(n)]
		if err := s.Notify("textDocument/didChange", r.edit(d)); err != nil {
			r.fail("storm: server gone after %d edits: %v", e, err)
			return
		}
		if e%10 != 9 {
			continue
		}
		m := methods[r.rng.IntN(len(methods))]
		td := map[string]any{"uri": d.uri}
		rng := map[string]any{"start": map[string]any{"line": 0, "character": 0}, "end": map[string]any{"line": 40, "character": 0}}
		params := map[string]any{"textDocument": td, "position": map[string]any{"line": r.rng.IntN(40), "character": r.rng.IntN(20)},
			"range": rng, "context": map[string]any{"diagnostics": []any{}}}
		id, ch, err := s.Send(m, params)
		if err != nil {
			r.fail("storm: %v", err)
			return
		}
		requests = append(requests, sent{ch, m})
		if len(requests)%5 == 0 {
			s.Notify("$/cancelRequest", map[string]any{"id": id})
		}
	}
	fmt.Printf("sent %d edits and %d requests in %.1fs\n", edits, len(requests), time.Since(t0).Seconds())
	for _, d := range docs {
		os.WriteFile(d.path, []byte(d.text), 0o644)
		s.Notify("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": d.uri}})
	}
	codes := map[int]int{}
	unanswered := 0
	deadline := time.After(120 * time.Second)
	for _, q := range requests {
		select {
		case resp := <-q.ch:
			if resp.Error != nil {
				codes[resp.Error.Code]++
			} else {
				codes[0]++
			}
		case <-deadline:
			unanswered++
		}
	}
	failed := 0
	for code, k := range codes {
		if code != 0 && code != lspclient.CodeRequestCancelled && code != lspclient.CodeContentModified {
			failed += k
		}
	}
	fmt.Printf("requests: %d answered, %d cancelled (-32800), %d content modified (-32801), %d failed otherwise %v, %d unanswered\n",
		codes[0], codes[lspclient.CodeRequestCancelled], codes[lspclient.CodeContentModified], failed, codes, unanswered)
	if failed > 0 || unanswered > 0 {
		r.fail("storm: %d requests failed (not cancellations), %d unanswered", failed, unanswered)
	}
	for _, d := range docs {
		if _, ok := s.WaitVersion(d.uri, d.version, 300*time.Second); !ok {
			r.fail("storm: no diagnostics for the final version of %s", filepath.Base(d.path))
		}
	}
	// An analysis that timed out under the storm is retried once the
	// server is idle: wait for those retries.
	for _, d := range docs {
		deadline := time.Now().Add(120 * time.Second)
		for time.Now().Before(deadline) {
			p, _ := s.Published(d.uri)
			if !timedOut(p) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	s.Quiet(3*time.Second, 120*time.Second)
	cur, peak = rssMB(s)
	fmt.Printf("storm done in %.1fs: RSS %d MB, peak %d MB\n", time.Since(t0).Seconds(), cur, peak)
	equal := r.compareWithCheck(s, dir, docs)
	fmt.Printf("final diagnostics equal to `bpf-lsp check` on the saved text: %d/%d\n", equal, n)
	if equal != n {
		r.fail("storm: final diagnostics differ from check for %d of %d documents", n-equal, n)
	}
	if peak > 500 {
		r.fail("storm: peak RSS %d MB > 500 MB", peak)
	}
	for _, d := range docs {
		s.Close(d.uri)
	}
	time.Sleep(5 * time.Second)
	closed, _ := rssMB(s)
	fmt.Printf("RSS 5 s after closing all: %d MB\n", closed)
}

// compareWithCheck runs `bpf-lsp check` on the saved documents and counts
// those whose last published diagnostics are the check's findings (same
// codes at the same lines; a header's finding by its message).
func (r *run) compareWithCheck(s *lspclient.Server, dir string, docs []*doc) int {
	args := []string{"check", "--format", "json"}
	for _, d := range docs {
		args = append(args, d.path)
	}
	cmd := exec.Command(r.bin, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		r.fail("storm: bpf-lsp check: %v", err)
		return 0
	}
	var findings []struct {
		File, Code, Message string
		Line                int
	}
	if err := json.Unmarshal(out, &findings); err != nil {
		r.fail("storm: check output: %v", err)
		return 0
	}
	want := map[string][]string{}
	for _, f := range findings {
		path := f.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		want[path] = append(want[path], fmt.Sprintf("%s@%d %s", f.Code, f.Line, f.Message))
	}
	equal := 0
	for _, d := range docs {
		p, _ := s.Published(d.uri)
		var got []string
		for _, diag := range p.Diagnostics {
			got = append(got, fmt.Sprintf("%s@%d %s", diag.Code, diag.Range.Start.Line+1, diag.Message))
		}
		if matches(got, want[d.path]) {
			equal++
		} else {
			fmt.Printf("  %s (version %d) differs:\n    server: %q\n    check:  %q\n", filepath.Base(d.path), d.version, got, want[d.path])
		}
	}
	return equal
}

// matches pairs each server diagnostic with a check finding: the same
// code and line, and a message that starts with the check's (the server
// appends "(fix available)", the kernel's wording, or for a header the
// location in front).
func matches(server, check []string) bool {
	if len(server) != len(check) {
		return false
	}
	sort.Strings(server)
	sort.Strings(check)
	used := make([]bool, len(server))
outer:
	for _, c := range check {
		key, msg, _ := strings.Cut(c, " ")
		for i, g := range server {
			gkey, gmsg, _ := strings.Cut(g, " ")
			if used[i] {
				continue
			}
			if (gkey == key && strings.HasPrefix(gmsg, msg)) || strings.Contains(gmsg, msg) && strings.HasPrefix(gkey, strings.Split(key, "@")[0]+"@") {
				used[i] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// timedOut reports whether a publication says its analysis did not finish.
func timedOut(p lspclient.Publication) bool {
	for _, d := range p.Diagnostics {
		if strings.Contains(d.Message, "did not finish") {
			return true
		}
	}
	return false
}
