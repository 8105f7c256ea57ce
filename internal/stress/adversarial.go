package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bpf-lsp/bpf-lsp/internal/lspclient"
)

// adversarial is one hostile input: files to create next to the
// document, the document's text, and editor settings in force meanwhile.
type adversarial struct {
	name     string
	files    map[string]string // relative path -> content; "fifo" makes a FIFO
	text     func(dir string) string
	settings map[string]any
}

func adversarialCases() []adversarial {
	upTo := func(dir, target string) string {
		return strings.Repeat("../", strings.Count(filepath.Clean(dir), "/")) + strings.TrimPrefix(target, "/")
	}
	return []adversarial{
		{name: "include ../../dev/zero", text: func(dir string) string { return "#include \"" + upTo(dir, "/dev/zero") + "\"\nint x;\n" }},
		{name: "include /dev/urandom", text: func(dir string) string { return "#include \"" + upTo(dir, "/dev/urandom") + "\"\nint x;\n" }},
		{name: "include a FIFO", files: map[string]string{"fifo.h": "fifo"}, text: func(string) string { return "#include \"fifo.h\"\nint x;\n" }},
		{name: "-include /dev/zero in compile_flags.txt", files: map[string]string{"compile_flags.txt": "-include\n/dev/zero\n"},
			text: func(string) string { return "int x;\n" }},
		{name: "setting compileCommands /dev/zero", settings: map[string]any{"compileCommands": "/dev/zero"},
			text: func(string) string { return "int x;\n" }},
		{name: "100k nested (", text: func(string) string {
			return "int x = " + strings.Repeat("(", 100000) + "0" + strings.Repeat(")", 100000) + ";\n"
		}},
		{name: "100k unbalanced (", text: func(string) string { return "int f(void) { return " + strings.Repeat("(", 100000) + "\n" }},
		{name: "10 MB line 0 + 0 + ...", text: func(string) string { return "int x = 0" + strings.Repeat(" + 0", 10<<20/4) + ";\n" }},
		{name: "self-include", files: map[string]string{"self.h": "#include \"self.h\"\nint y;\n"},
			text: func(string) string { return "#include \"self.h\"\nint x;\n" }},
		{name: "document includes itself", text: func(string) string { return "#include \"doc.bpf.c\"\nint x;\n" }},
		{name: "include cycle", files: map[string]string{"a.h": "#include \"b.h\"\nint a;\n", "b.h": "#include \"a.h\"\nint b;\n"},
			text: func(string) string { return "#include \"a.h\"\nint x;\n" }},
	}
}

// adversarial opens each hostile document, then at once a good one: the
// hostile one must get its diagnostics within 10 s, the good one must be
// served meanwhile, and the server must stay up.
func (r *run) adversarial() {
	s := r.start(nil)
	defer func() {
		if s.Alive() {
			s.Stop()
		}
	}()
	good := 0
	serveGood := func(tag string) (time.Duration, bool) {
		good++
		dir := filepath.Join(r.ws, "adversarial-good")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "compile_flags.txt"), []byte("-target\nbpf\n-I"+r.ws+"\n"), 0o644)
		u := lspclient.FileURI(filepath.Join(dir, fmt.Sprintf("good%d.bpf.c", good)))
		t0 := time.Now()
		s.Open(u, r.program(good, false))
		_, ok := s.WaitVersion(u, 1, 30*time.Second)
		s.Close(u)
		return time.Since(t0), ok
	}
	if d, ok := serveGood("warm-up"); !ok {
		r.fail("adversarial: the warm-up document got no diagnostics")
	} else {
		fmt.Printf("warm-up document: %.2fs\n", d.Seconds())
	}
	fmt.Printf("%-42s %10s %12s %6s  %s\n", "input", "answer", "other doc", "alive", "first diagnostic")
	var fifos []string
	defer func() {
		for _, f := range fifos {
			// Unblock anything still opening a FIFO, so that it ends.
			if fd, err := syscall.Open(f, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				syscall.Close(fd)
			}
		}
	}()
	for i, c := range adversarialCases() {
		dir := filepath.Join(r.ws, "adversarial", fmt.Sprint(i))
		os.MkdirAll(dir, 0o755)
		for name, content := range c.files {
			p := filepath.Join(dir, name)
			if content == "fifo" {
				syscall.Mkfifo(p, 0o644)
				fifos = append(fifos, p)
				continue
			}
			os.WriteFile(p, []byte(content), 0o644)
		}
		if c.settings != nil {
			s.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"bpfLsp": c.settings}})
		}
		u := lspclient.FileURI(filepath.Join(dir, "doc.bpf.c"))
		t0 := time.Now()
		s.Open(u, c.text(dir))
		goodTime, goodOK := serveGood(c.name)
		p, ok := s.WaitVersion(u, 1, 10*time.Second-time.Since(t0))
		answer := time.Since(t0)
		first := ""
		if len(p.Diagnostics) > 0 {
			first = p.Diagnostics[0].Message
			if len(first) > 70 {
				first = first[:70] + "..."
			}
		}
		alive := s.Alive() && s.Ping(10*time.Second)
		answerText := fmt.Sprintf("%.2fs", answer.Seconds())
		if !ok {
			answerText = "none"
		}
		otherText := fmt.Sprintf("%.2fs", goodTime.Seconds())
		if !goodOK {
			otherText = "none"
		}
		fmt.Printf("%-42s %10s %12s %6v  %q\n", c.name, answerText, otherText, alive, first)
		if !ok {
			r.fail("adversarial %q: no diagnostics within 10 s", c.name)
		}
		if !goodOK {
			r.fail("adversarial %q: the other document was not served", c.name)
		}
		if !alive {
			r.fail("adversarial %q: the server is down or deaf (%s)", c.name, s.Status())
			s.Kill()
			s = r.start(nil)
			continue
		}
		s.Close(u)
		if c.settings != nil {
			reset := map[string]any{}
			for k := range c.settings {
				reset[k] = ""
			}
			s.Notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"bpfLsp": reset}})
		}
	}
	_, peak := rssMB(s)
	fmt.Printf("peak RSS over the adversarial inputs: %d MB\n", peak)
}
