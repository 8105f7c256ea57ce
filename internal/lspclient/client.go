// Package lspclient drives a language server over its stdio the way an
// editor does, for the project's measuring tools (internal/bench,
// internal/stress): framed JSON-RPC out, responses routed by id,
// publishDiagnostics kept per document, the server's own requests answered,
// and the process's memory and CPU time read from /proc.
package lspclient

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server is one server process and the client's view of it.
type Server struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	wmu    sync.Mutex
	nextID atomic.Int64
	exited chan struct{} // closed when the process ends

	mu      sync.Mutex
	status  string // how the process ended, once exited
	pending map[int64]chan Response
	diags   map[string]Publication // by URI: the latest publication
	pubs    int                    // publications received
	changed chan struct{}          // signalled on every publication
	// The $/progress reports: how many ended, and when the last did if
	// no report followed it (zero while some work is in progress).
	progressEnds int
	progressIdle time.Time
}

// Response is the answer to one request.
type Response struct {
	Result json.RawMessage `json:"result"`
	Error  *RPCError       `json:"error"`
}

// RPCError is a JSON-RPC error answer.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("code %d: %s", e.Code, e.Message) }

// JSON-RPC and LSP error codes the tools tell apart.
const (
	CodeMethodNotFound   = -32601
	CodeRequestCancelled = -32800
	CodeContentModified  = -32801
)

// Publication is one textDocument/publishDiagnostics.
type Publication struct {
	Version     *int32       `json:"version"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

// Diagnostic is the part of an LSP diagnostic the tools read.
type Diagnostic struct {
	Range struct {
		Start struct{ Line, Character int } `json:"start"`
	} `json:"range"`
	Code    string `json:"code"`
	Source  string `json:"source"`
	Message string `json:"message"`
}

// Config says which server to start and how to initialize it.
type Config struct {
	Argv        []string
	Dir         string    // the process's working directory
	RootURI     string    // the workspace root; "" = Dir
	InitOptions any       // initializationOptions
	Stderr      io.Writer // the server's stderr; nil discards it
	// Progress announces window.workDoneProgress: the server reports its
	// background work with $/progress (see Server.Progress).
	Progress bool
	// InitTimeout bounds the wait for the initialize response; 0 = 60 s.
	InitTimeout time.Duration
}

// Start runs the server in a process group of its own (so Kill ends
// whatever it spawned too) and initializes it.
func Start(cfg Config) (*Server, error) {
	cmd := exec.Command(cfg.Argv[0], cfg.Argv[1:]...)
	cmd.Dir = cfg.Dir
	cmd.Stderr = cfg.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
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
	s := &Server{cmd: cmd, stdin: stdin, exited: make(chan struct{}), pending: map[int64]chan Response{},
		diags: map[string]Publication{}, changed: make(chan struct{}, 1)}
	// Wait only after the reader has seen EOF: Wait closes the pipe, and
	// the last frames would be lost.
	done := make(chan struct{})
	go func() {
		s.read(stdout)
		close(done)
	}()
	go func() {
		<-done
		err := cmd.Wait()
		s.mu.Lock()
		s.status = "exit 0"
		if err != nil {
			s.status = err.Error()
		}
		s.mu.Unlock()
		close(s.exited)
	}()
	root := cfg.RootURI
	if root == "" {
		root = FileURI(cfg.Dir)
	}
	timeout := cfg.InitTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	caps := map[string]any{"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true, "versionSupport": true}}}
	if cfg.Progress {
		caps["window"] = map[string]any{"workDoneProgress": true}
	}
	if _, err := s.Call("initialize", map[string]any{"processId": os.Getpid(), "rootUri": root, "capabilities": caps,
		"initializationOptions": cfg.InitOptions}, timeout); err != nil {
		s.Kill()
		return nil, fmt.Errorf("initialize: %w", err)
	}
	s.Notify("initialized", map[string]any{})
	return s, nil
}

// FileURI is the file: URI of an absolute path.
func FileURI(path string) string { return "file://" + path }

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Alive reports whether the process is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Status says how the process ended ("" while it runs).
func (s *Server) Status() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Kill ends the server's process group and waits for the server.
func (s *Server) Kill() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

// Stop ends the session as an editor does (shutdown, exit), killing the
// server if it does not go within seconds.
func (s *Server) Stop() {
	s.Call("shutdown", nil, 10*time.Second)
	s.Notify("exit", nil)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.Kill()
	}
}

func (s *Server) read(stdout io.Reader) {
	r := bufio.NewReaderSize(stdout, 1<<20)
	for {
		n := -1
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length:"); ok {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if n < 0 {
			continue
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var msg struct {
			ID     *json.RawMessage `json:"id"`
			Method string           `json:"method"`
			Params json.RawMessage  `json:"params"`
			Response
		}
		if json.Unmarshal(body, &msg) != nil {
			continue
		}
		switch {
		case msg.Method != "" && msg.ID != nil:
			// A request to the client (configuration, progress): answer
			// so the server does not wait, with no settings.
			var result any
			if msg.Method == "workspace/configuration" {
				result = []any{nil}
			}
			s.write(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": result})
		case msg.Method == "textDocument/publishDiagnostics":
			var p struct {
				URI string `json:"uri"`
				Publication
			}
			if json.Unmarshal(msg.Params, &p) == nil {
				s.mu.Lock()
				s.diags[p.URI] = p.Publication
				s.pubs++
				s.mu.Unlock()
				select {
				case s.changed <- struct{}{}:
				default:
				}
			}
		case msg.Method == "$/progress":
			var p struct {
				Value struct{ Kind string } `json:"value"`
			}
			if json.Unmarshal(msg.Params, &p) == nil {
				s.mu.Lock()
				s.progressIdle = time.Time{}
				if p.Value.Kind == "end" {
					s.progressEnds++
					s.progressIdle = time.Now()
				}
				s.mu.Unlock()
			}
		case msg.ID != nil:
			id, err := strconv.ParseInt(string(*msg.ID), 10, 64)
			if err != nil {
				continue
			}
			s.mu.Lock()
			ch := s.pending[id]
			delete(s.pending, id)
			s.mu.Unlock()
			if ch != nil {
				ch <- msg.Response
			}
		}
	}
}

func (s *Server) write(msg any) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return s.WriteRaw(fmt.Appendf(nil, "Content-Length: %d\r\n\r\n%s", len(body), body))
}

// WriteRaw sends bytes as they are (a fuzz sends broken frames).
func (s *Server) WriteRaw(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.stdin.Write(b)
	return err
}

// Notify sends a notification.
func (s *Server) Notify(method string, params any) error {
	return s.write(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// Send starts a request and returns its id and the channel its response
// arrives on.
func (s *Server) Send(method string, params any) (int64, chan Response, error) {
	id := s.nextID.Add(1)
	ch := make(chan Response, 1)
	s.mu.Lock()
	s.pending[id] = ch
	s.mu.Unlock()
	err := s.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return id, ch, err
}

// ErrTimeout is a request's error when no response came in time.
var ErrTimeout = errors.New("no response")

// Call sends a request and waits for its response.
func (s *Server) Call(method string, params any, timeout time.Duration) (json.RawMessage, error) {
	_, ch, err := s.Send(method, params)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, r.Error
		}
		return r.Result, nil
	case <-s.exited:
		return nil, fmt.Errorf("server exited (%s)", s.Status())
	case <-time.After(timeout):
		return nil, ErrTimeout
	}
}

// Ping checks that the server still reads and answers: a request for a
// method no server has must get "method not found".
func (s *Server) Ping(timeout time.Duration) bool {
	_, err := s.Call("bpf/ping", nil, timeout)
	var rpcErr *RPCError
	return errors.As(err, &rpcErr) && rpcErr.Code == CodeMethodNotFound
}

// Open sends didOpen of a C document at version 1.
func (s *Server) Open(uri, text string) error {
	return s.Notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "c", "version": 1, "text": text}})
}

// Replace sends didChange with the document's whole new text.
func (s *Server) Replace(uri string, version int32, text string) error {
	return s.Notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": uri, "version": version},
		"contentChanges": []map[string]any{{"text": text}}})
}

// Close sends didClose.
func (s *Server) Close(uri string) error {
	return s.Notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
}

// Published returns the latest publication for uri.
func (s *Server) Published(uri string) (Publication, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.diags[uri]
	return p, ok
}

// WaitVersion waits until uri's latest publication is for version.
func (s *Server) WaitVersion(uri string, version int32, timeout time.Duration) (Publication, bool) {
	deadline := time.After(timeout)
	for {
		if p, ok := s.Published(uri); ok && p.Version != nil && *p.Version == version {
			return p, true
		}
		select {
		case <-s.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return Publication{}, false
		case <-s.exited:
			return Publication{}, false
		}
	}
}

// Progress returns how many $/progress reports have ended and, when the
// last report was an end, when it arrived (zero otherwise).
func (s *Server) Progress() (ends int, idleSince time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progressEnds, s.progressIdle
}

// Quiet waits until no publication has arrived for d (at most max).
func (s *Server) Quiet(d, max time.Duration) {
	end := time.Now().Add(max)
	for time.Now().Before(end) {
		s.mu.Lock()
		n := s.pubs
		s.mu.Unlock()
		time.Sleep(d)
		s.mu.Lock()
		same := s.pubs == n
		s.mu.Unlock()
		if same {
			return
		}
	}
}

// RSS returns the process's current and peak resident set in KB (VmRSS,
// VmHWM), zero once it has exited.
func (s *Server) RSS() (cur, peak int) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid()))
	if err != nil {
		return 0, 0
	}
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		f := strings.Fields(string(line))
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			cur = kb
		case "VmHWM:":
			peak = kb
		}
	}
	return cur, peak
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

// CPUTime is the user plus system time all of the server's threads have
// used so far (/proc/PID/stat utime + stime, in 10 ms ticks); zero once it
// has exited. Differences over a span of work compare servers that spread
// a rebuild over threads and those that debounce it.
func (s *Server) CPUTime() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Pid()))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: the fields
	// counted from 3 (state) start after its closing parenthesis.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return time.Duration(utime+stime) * clockTick
}
