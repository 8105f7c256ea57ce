package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// fuzzMethods are the methods the fuzz sends (all the server knows, and
// some it does not). "exit" and "shutdown" are left out: they end a session by design.
var fuzzMethods = []string{
	"initialize", "initialized", "textDocument/didOpen", "textDocument/didChange", "textDocument/didClose",
	"textDocument/didSave", "textDocument/hover", "textDocument/definition", "textDocument/documentSymbol",
	"textDocument/inlayHint", "textDocument/codeAction", "textDocument/diagnostic", "textDocument/completion",
	"workspace/executeCommand", "workspace/didChangeConfiguration", "workspace/didChangeWatchedFiles",
	"$/cancelRequest", "$/setTrace", "$/progress", "bpf/unknown", "", "textDocument/",
}

// fuzz sends n frames, valid and broken, and pings the server every 1,000:
// a ping without an answer within 10 s is a deaf state, an exit a death;
// either way the server is restarted and the fuzz goes on.
func (r *run) fuzz(n int) {
	s := r.start(nil)
	deaths, deaf, lost := 0, 0, 0
	check := func(at int) {
		// A broken frame just before a ping may take the ping with it
		// (its length covers the ping's header): a lost ping. Deaf is a
		// server that answers none of three more.
		for try := range 4 {
			if !s.Alive() {
				break
			}
			if s.Ping(10 * time.Second) {
				if try > 0 {
					lost++
				}
				return
			}
		}
		if s.Alive() {
			deaf++
			fmt.Printf("  deaf after frame %d\n", at)
			s.Kill()
		} else {
			deaths++
			fmt.Printf("  died after frame %d: %s\n", at, s.Status())
		}
		s = r.start(nil)
	}
	t0 := time.Now()
	kinds := map[string]int{}
	for i := range n {
		kind, frame := r.fuzzFrame()
		kinds[kind]++
		if err := s.WriteRaw(frame); err != nil {
			check(i)
			continue
		}
		if i%1000 == 999 {
			check(i)
		}
	}
	check(n)
	_, peak := rssMB(s)
	s.Stop()
	fmt.Printf("%d frames in %.1fs %v: %d process deaths, %d deaf states, %d pings lost to the frame before; peak RSS %d MB\n",
		n, time.Since(t0).Seconds(), kinds, deaths, deaf, lost, peak)
	if deaths > 0 || deaf > 0 {
		r.fail("fuzz: %d deaths, %d deaf states", deaths, deaf)
	}
}

// fuzzFrame returns one frame and its kind.
func (r *run) fuzzFrame() (string, []byte) {
	frame := func(body []byte) []byte { return fmt.Appendf(nil, "Content-Length: %d\r\n\r\n%s", len(body), body) }
	msg := map[string]any{"jsonrpc": "2.0", "method": fuzzMethods[r.rng.IntN(len(fuzzMethods))], "params": r.fuzzParams()}
	if r.rng.IntN(2) == 0 {
		msg["id"] = r.fuzzID()
	}
	body, _ := json.Marshal(msg)
	switch k := r.rng.IntN(100); {
	case k < 55:
		return "valid", frame(body)
	case k < 70: // bytes of the body changed
		for range 1 + r.rng.IntN(4) {
			body[r.rng.IntN(len(body))] = byte(r.rng.IntN(256))
		}
		return "mutated", frame(body)
	case k < 80: // a wrong length
		return "length", fmt.Appendf(nil, "Content-Length: %d\r\n\r\n%s", max(0, len(body)+r.rng.IntN(41)-20), body)
	case k < 88:
		headers := []string{"Content-Length: \r\n\r\n", "Content-Length: -1\r\n\r\n", "Content-Length: 1e3\r\n\r\n",
			"Content-Type: x\r\n\r\n", "Content-Length: 99999999999999999999\r\n\r\n", "\r\n", "Content-Length 5\r\n\r\nhello",
			"Content-Length: 5\n\nhello", "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}}"}
		return "header", []byte(headers[r.rng.IntN(len(headers))])
	case k < 93:
		junk := make([]byte, r.rng.IntN(4096))
		for i := range junk {
			junk[i] = byte(r.rng.IntN(256))
		}
		return "garbage", junk
	default:
		odd := []string{`[]`, `[{"jsonrpc":"2.0","method":"initialized"}]`, `null`, `42`, `"x"`, `{}`,
			`{"jsonrpc":"1.0","id":1,"method":"textDocument/hover"}`, `{"jsonrpc":"2.0","id":{"a":1},"method":"textDocument/hover"}`,
			`{"jsonrpc":"2.0","id":1.5,"method":"textDocument/hover"}`, `{"jsonrpc":"2.0","id":1,"result":null}`,
			`{"jsonrpc":"2.0","id":99999999999999999999,"method":"textDocument/hover"}`, `{"jsonrpc":"2.0","method":"initialize"}`}
		return "odd", frame([]byte(odd[r.rng.IntN(len(odd))]))
	}
}

func (r *run) fuzzID() any {
	switch r.rng.IntN(4) {
	case 0:
		return fmt.Sprint("s", r.rng.IntN(1000))
	default:
		return 1_000_000 + r.rng.IntN(1_000_000)
	}
}

// fuzzParams returns plausible params with random parts: documents on a
// few URIs with short C-like texts, positions, ranges, settings, or any
// JSON value.
func (r *run) fuzzParams() any {
	uris := []string{"file:///tmp/bpf-lsp-fuzz/a.bpf.c", "file:///tmp/bpf-lsp-fuzz/b.h", "untitled:Untitled-1", "file:///", "", "x:y"}
	pos := map[string]any{"line": r.fuzzInt(), "character": r.fuzzInt()}
	texts := []string{"int x;", "#include \"b.h\"\n", "struct bpf_spin_lock l; void f(void) { bpf_spin_lock(&l); }",
		strings.Repeat("(", r.rng.IntN(500)), "\xff\xfe", "#include </dev/null>\n", "int f(int *"}
	switch r.rng.IntN(6) {
	case 0:
		return r.fuzzValue(3)
	case 1:
		return map[string]any{"settings": map[string]any{"bpfLsp": map[string]any{
			"includeDirs": []any{r.fuzzValue(1)}, "defines": r.fuzzValue(1), "verifyOnSave": r.rng.IntN(2) == 0}}}
	default:
		td := map[string]any{"uri": uris[r.rng.IntN(len(uris))], "version": r.fuzzInt(), "languageId": "c",
			"text": texts[r.rng.IntN(len(texts))]}
		change := map[string]any{"text": texts[r.rng.IntN(len(texts))]}
		if r.rng.IntN(2) == 0 {
			change["range"] = map[string]any{"start": pos, "end": map[string]any{"line": r.fuzzInt(), "character": r.fuzzInt()}}
		}
		p := map[string]any{"textDocument": td, "position": pos, "contentChanges": []any{change},
			"range": map[string]any{"start": pos, "end": pos}, "context": map[string]any{"diagnostics": []any{}},
			"id": r.fuzzID(), "command": "bpf-lsp.verify", "arguments": []any{td["uri"]}}
		for k := range p {
			if r.rng.IntN(8) == 0 {
				p[k] = r.fuzzValue(2)
			}
		}
		return p
	}
}

func (r *run) fuzzInt() any {
	switch r.rng.IntN(8) {
	case 0:
		return -1
	case 1:
		return 1 << 40
	case 2:
		return 2.5
	default:
		return r.rng.IntN(50)
	}
}

func (r *run) fuzzValue(depth int) any {
	switch k := r.rng.IntN(7); {
	case k == 0 || depth == 0 && k >= 5:
		return nil
	case k == 1:
		return r.rng.IntN(2) == 0
	case k == 2:
		return r.fuzzInt()
	case k == 3:
		return strings.Repeat("a\x00\u2028", r.rng.IntN(5))
	case k == 4:
		return fmt.Sprint(r.rng.Float64())
	case k == 5:
		var a []any
		for range r.rng.IntN(4) {
			a = append(a, r.fuzzValue(depth-1))
		}
		return a
	default:
		m := map[string]any{}
		for _, key := range []string{"uri", "textDocument", "position", "text", "version"} {
			if r.rng.IntN(2) == 0 {
				m[key] = r.fuzzValue(depth - 1)
			}
		}
		return m
	}
}
