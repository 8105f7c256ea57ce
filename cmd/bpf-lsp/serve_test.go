package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func frame(body string) string {
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}

// A whole session on stdin/stdout: initialize, shutdown, exit → 0, and
// nothing but protocol frames on stdout.
func TestServeSession(t *testing.T) {
	in := frame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}`) +
		frame(`{"jsonrpc":"2.0","method":"initialized","params":{}}`) +
		frame(`{"jsonrpc":"2.0","id":2,"method":"shutdown"}`) +
		frame(`{"jsonrpc":"2.0","method":"exit"}`)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(in))
		// Keep stdin open like an editor does; exit must end the session.
		time.Sleep(10 * time.Second)
		pw.Close()
	}()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- runServe([]string{"-I", "../../testdata/include"}, pr, &stdout, &stderr) }()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not exit")
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "Content-Length: ") || !strings.Contains(out, `"name":"bpf-lsp"`) {
		t.Errorf("stdout is not protocol frames:\n%s", out)
	}
}

func TestServeRejectsArguments(t *testing.T) {
	var stderr bytes.Buffer
	if code := runServe([]string{"prog.bpf.c"}, strings.NewReader(""), io.Discard, &stderr); code != 2 {
		t.Errorf("exit code %d for a positional argument, want 2 (%s)", code, stderr.String())
	}
}

// TestServeLogsFlags: at -v the log says, per file, the flags it was
// parsed with and how long parsing and analysis took.
func TestServeLogsFlags(t *testing.T) {
	prog, _ := filepath.Abs("../../testdata/demo/queue.bpf.c")
	src, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := json.Marshal(string(src))
	pr, pw := io.Pipe()
	var stderr testenv.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- runServe([]string{"-v", "-I", "../../testdata/include"}, pr, io.Discard, &stderr) }()
	pw.Write([]byte(frame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}`) +
		frame(`{"jsonrpc":"2.0","method":"initialized","params":{}}`) +
		frame(fmt.Sprintf(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file://%s","languageId":"c","version":1,"text":%s}}}`, prog, text))))
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "msg=analysed") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	pw.Write([]byte(frame(`{"jsonrpc":"2.0","id":2,"method":"shutdown"}`) + frame(`{"jsonrpc":"2.0","method":"exit"}`)))
	<-done
	pw.Close()
	var line string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "msg=analysed") {
			line = l
		}
	}
	inc, _ := filepath.Abs("../../testdata/include")
	for _, want := range []string{"file=" + prog, "flags=", inc, "from=", "parse=", "analysis="} {
		if !strings.Contains(line, want) {
			t.Errorf("the analysis log line lacks %q:\n%s", want, line)
		}
	}
}
