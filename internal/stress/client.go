package main

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
	"time"
)

// server is one `bpf-lsp serve` process driven over its stdio like an
// editor drives it: framed JSON-RPC out, responses routed by id,
// publishDiagnostics recorded, the server's own requests answered.
type server struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	wmu    sync.Mutex
	nextID atomic.Int64
	exited chan struct{} // closed when the process ends
	status string        // how it ended, once exited

	mu      sync.Mutex
	pending map[int64]chan response
	diags   map[string]publication // by URI: the latest publication
	pubs    int                    // publications received
	changed chan struct{}          // signalled on every publication
}

type response struct {
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("code %d: %s", e.Code, e.Message) }

type publication struct {
	Version     *int32       `json:"version"`
	Diagnostics []diagnostic `json:"diagnostics"`
}

type diagnostic struct {
	Range struct {
		Start struct{ Line, Character int } `json:"start"`
	} `json:"range"`
	Code    string `json:"code"`
	Source  string `json:"source"`
	Message string `json:"message"`
}

// LSP error codes the stress run tells apart.
const (
	codeRequestCancelled = -32800
	codeContentModified  = -32801
	codeMethodNotFound   = -32601
)

// start runs bin serve in dir, logging to logFile, and initializes it.
func start(bin, dir, logFile string, initOptions any) (*server, error) {
	cmd := exec.Command(bin, "serve", "--log-file", logFile)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
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
	s := &server{cmd: cmd, stdin: stdin, exited: make(chan struct{}), pending: map[int64]chan response{},
		diags: map[string]publication{}, changed: make(chan struct{}, 1)}
	go s.read(stdout)
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.status = fmt.Sprint(err)
		if err == nil {
			s.status = "exit 0"
		}
		s.mu.Unlock()
		close(s.exited)
	}()
	caps := map[string]any{"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}}}
	root := "file://" + dir
	if _, err := s.call("initialize", map[string]any{"processId": os.Getpid(), "rootUri": root, "capabilities": caps,
		"initializationOptions": initOptions}, 60*time.Second); err != nil {
		s.kill()
		return nil, fmt.Errorf("initialize: %w", err)
	}
	s.notify("initialized", map[string]any{})
	return s, nil
}

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// stop ends the session as an editor does.
func (s *server) stop() {
	s.call("shutdown", nil, 10*time.Second)
	s.notify("exit", nil)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.kill()
	}
}

func (s *server) read(stdout io.Reader) {
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
			response
		}
		if json.Unmarshal(body, &msg) != nil {
			continue
		}
		switch {
		case msg.Method != "" && msg.ID != nil: // a request to the client
			var result any
			if msg.Method == "workspace/configuration" {
				result = []any{nil}
			}
			s.write(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": result})
		case msg.Method == "textDocument/publishDiagnostics":
			var p struct {
				URI string `json:"uri"`
				publication
			}
			if json.Unmarshal(msg.Params, &p) == nil {
				s.mu.Lock()
				s.diags[p.URI] = p.publication
				s.pubs++
				s.mu.Unlock()
				select {
				case s.changed <- struct{}{}:
				default:
				}
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
				ch <- msg.response
			}
		}
	}
}

func (s *server) write(msg any) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return s.writeRaw(fmt.Appendf(nil, "Content-Length: %d\r\n\r\n%s", len(body), body))
}

// writeRaw sends bytes as they are (the fuzz sends broken frames).
func (s *server) writeRaw(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.stdin.Write(b)
	return err
}

func (s *server) notify(method string, params any) error {
	return s.write(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// send starts a request and returns its id and the channel its response
// arrives on.
func (s *server) send(method string, params any) (int64, chan response, error) {
	id := s.nextID.Add(1)
	ch := make(chan response, 1)
	s.mu.Lock()
	s.pending[id] = ch
	s.mu.Unlock()
	err := s.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return id, ch, err
}

var errTimeout = errors.New("no response")

// call sends a request and waits for its response.
func (s *server) call(method string, params any, timeout time.Duration) (json.RawMessage, error) {
	_, ch, err := s.send(method, params)
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
		return nil, fmt.Errorf("server exited (%s)", s.status)
	case <-time.After(timeout):
		return nil, errTimeout
	}
}

// ping checks that the server still reads and answers.
func (s *server) ping(timeout time.Duration) bool {
	_, err := s.call("bpf/ping", nil, timeout)
	var rpcErr *rpcError
	return errors.As(err, &rpcErr) && rpcErr.Code == codeMethodNotFound
}

func (s *server) open(uri, text string) error {
	return s.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "c", "version": 1, "text": text}})
}

func (s *server) closeDoc(uri string) error {
	return s.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
}

// published returns the latest publication for uri.
func (s *server) published(uri string) (publication, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.diags[uri]
	return p, ok
}

// waitVersion waits until uri's latest publication is for version.
func (s *server) waitVersion(uri string, version int32, timeout time.Duration) (publication, bool) {
	deadline := time.After(timeout)
	for {
		if p, ok := s.published(uri); ok && p.Version != nil && *p.Version == version {
			return p, true
		}
		select {
		case <-s.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return publication{}, false
		case <-s.exited:
			return publication{}, false
		}
	}
}

// quiet waits until no publication has arrived for d (at most max).
func (s *server) quiet(d, max time.Duration) {
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

// rss returns the process's current and peak resident set, in MB.
func (s *server) rss() (cur, peak int) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
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
			cur = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return cur, peak
}
