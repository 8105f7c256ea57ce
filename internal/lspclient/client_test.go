package lspclient

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is also the server under test: a minimal LSP server that
// publishes one diagnostic per version, burns CPU or spawns a child on
// request, and answers unknown requests with "method not found".
func TestMain(m *testing.M) {
	if os.Getenv("LSPCLIENT_FAKE_SERVER") == "1" {
		fakeServer(os.Stdin, os.Stdout)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func fakeServer(in io.Reader, out io.Writer) {
	r := bufio.NewReader(in)
	send := func(msg any) {
		b, _ := json.Marshal(msg)
		fmt.Fprintf(out, "Content-Length: %d\r\n\r\n%s", len(b), b)
	}
	for {
		n := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line = strings.TrimSpace(line); line == "" {
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
			ID     *int   `json:"id"`
			Method string `json:"method"`
			Params struct {
				TextDocument struct {
					URI     string `json:"uri"`
					Version int    `json:"version"`
				} `json:"textDocument"`
			} `json:"params"`
		}
		json.Unmarshal(body, &msg)
		switch msg.Method {
		case "initialize", "shutdown":
			send(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": map[string]any{}})
		case "initialized":
			// A request the client must answer, as servers pull settings.
			send(map[string]any{"jsonrpc": "2.0", "id": 100, "method": "workspace/configuration", "params": map[string]any{}})
		case "textDocument/didOpen", "textDocument/didChange":
			d := msg.Params.TextDocument
			send(map[string]any{"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": map[string]any{
				"uri": d.URI, "version": d.Version,
				"diagnostics": []any{map[string]any{"message": "version " + strconv.Itoa(d.Version), "range": map[string]any{}}}}})
		case "busy":
			// 100 ms of CPU, however long the loaded machine takes.
			for t0 := cpuSelf(); cpuSelf()-t0 < 100*time.Millisecond; {
			}
			send(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": nil})
		case "spawn":
			cmd := exec.Command("sleep", "60")
			cmd.Start()
			send(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": cmd.Process.Pid})
		case "exit":
			return
		default:
			if msg.ID != nil {
				send(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "error": map[string]any{"code": CodeMethodNotFound, "message": "no " + msg.Method}})
			}
		}
	}
}

func cpuSelf() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startFake(t *testing.T) *Server {
	t.Helper()
	t.Setenv("LSPCLIENT_FAKE_SERVER", "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(Config{Argv: []string{exe}, Dir: t.TempDir(), InitTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSession(t *testing.T) {
	s := startFake(t)
	uri := FileURI("/x/a.c")
	s.Open(uri, "int x;\n")
	if p, ok := s.WaitVersion(uri, 1, 10*time.Second); !ok || len(p.Diagnostics) != 1 || p.Diagnostics[0].Message != "version 1" {
		t.Fatalf("after open: %+v, %v", p, ok)
	}
	s.Replace(uri, 2, "int y;\n")
	if p, ok := s.WaitVersion(uri, 2, 10*time.Second); !ok || p.Diagnostics[0].Message != "version 2" {
		t.Fatalf("after change: %+v, %v", p, ok)
	}
	if _, ok := s.WaitVersion(uri, 3, 200*time.Millisecond); ok {
		t.Error("WaitVersion(3) succeeded with no such version published")
	}
	if !s.Ping(10 * time.Second) {
		t.Error("Ping: no method-not-found answer")
	}

	cpu0 := s.CPUTime()
	if _, err := s.Call("busy", nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// The ticks of /proc/PID/stat are 10 ms.
	if d := s.CPUTime() - cpu0; d < 90*time.Millisecond {
		t.Errorf("CPUTime grew by %v over 100 ms of spinning", d)
	}
	if cur, peak := s.RSS(); cur <= 0 || peak < cur {
		t.Errorf("RSS = %d, %d KB", cur, peak)
	}

	s.Stop()
	if s.Alive() || s.Status() != "exit 0" {
		t.Errorf("after Stop: alive %v, status %q", s.Alive(), s.Status())
	}
	if s.CPUTime() != 0 {
		t.Error("CPUTime of an exited server is not 0")
	}
}

func TestKillEndsTheGroup(t *testing.T) {
	s := startFake(t)
	res, err := s.Call("spawn", nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(string(res))
	s.Kill()
	// The child, reparented once the server died, must be gone too (or a
	// zombie of init's that no longer runs).
	for deadline := time.Now().Add(5 * time.Second); ; {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil || strings.Contains(string(stat), ") Z") {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("child %d of the server still runs after Kill", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.Call("busy", nil, time.Second); err == nil {
		t.Error("a call to a killed server succeeded")
	}
}
