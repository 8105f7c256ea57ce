package main

import (
	"bytes"
	"fmt"
	"io"
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
