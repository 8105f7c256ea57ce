package realworld

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bpf-lsp/bpf-lsp/report"
)

// Checker runs `bpf-lsp check` on one file at a time, as a user would: in
// the Makefile's directory, with the preprocessor flags clang gets.
type Checker struct {
	Bin     string
	Timeout time.Duration // a run taking longer is killed and counted as a failure
	// supported are the preprocessor flags the CLI accepts ("-I", "-idirafter", ...).
	supported map[string]bool
}

// NewChecker asks the binary which preprocessor flags its check command
// accepts, so the corpus is checked with every flag clang gets that the CLI
// knows (a user would drop the others).
func NewChecker(ctx context.Context, bin string, timeout time.Duration) (*Checker, error) {
	cmd := exec.CommandContext(ctx, bin, "check", "-h")
	out, _ := cmd.CombinedOutput() // -h exits 0 or 2 depending on the flag package
	help := string(out)
	if !strings.Contains(help, "usage:") {
		return nil, fmt.Errorf("%s check -h: no usage text: %s", bin, help)
	}
	c := &Checker{Bin: bin, Timeout: timeout, supported: map[string]bool{}}
	for _, name := range []string{"-I", "-D", "-U", "-idirafter", "-isystem", "-iquote", "-include"} {
		if regexp.MustCompile(`(?m)^\s+-?` + regexp.QuoteMeta(name) + `(\s|$)`).MatchString(help) {
			c.supported[name] = true
		}
	}
	if !c.supported["-I"] {
		return nil, fmt.Errorf("%s check does not accept -I", bin)
	}
	return c, nil
}

// Supported lists the preprocessor flags passed on.
func (c *Checker) Supported() []string { return sortedKeys(c.supported) }

// CheckRun is one `bpf-lsp check --format json` run on one file.
type CheckRun struct {
	Findings   []report.JSONFinding
	Seconds    float64 // wall time of the process
	CPUSeconds float64 // user + system time
	MaxRSSKB   int64
	// Failure says why the run produced no findings list: killed after the
	// timeout, a crash, a usage or internal error (exit 2), unreadable JSON.
	Failure string
}

// timeCmd measures a child's peak memory. The harness cannot take it from
// its own wait4: Go starts children with vfork, so a child's max RSS starts
// at the harness's; /usr/bin/time forks, and reports the child's own.
const timeCmd = "/usr/bin/time"

// Run checks one source.
func (c *Checker) Run(ctx context.Context, s Source) CheckRun {
	rss, err := os.CreateTemp("", "realworld-rss-")
	if err != nil {
		return CheckRun{Failure: err.Error()}
	}
	rss.Close()
	defer os.Remove(rss.Name())
	args := []string{"-f", "%M", "-o", rss.Name(), c.Bin, "check", "--format", "json"}
	args = append(args, PreprocessorFlags(s.Flags, func(f string) bool { return c.supported[f] })...)
	args = append(args, s.Path)
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, timeCmd, args...)
	cmd.Dir = s.Dir
	// Kill time and bpf-lsp together on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	run := CheckRun{Seconds: time.Since(start).Seconds()}
	if cmd.ProcessState != nil {
		run.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if b, rerr := os.ReadFile(rss.Name()); rerr == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		run.MaxRSSKB, _ = strconv.ParseInt(lines[len(lines)-1], 10, 64)
	}
	var ee *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		run.Failure = fmt.Sprintf("timeout: killed after %s", c.Timeout)
		return run
	case errors.As(err, &ee) && ee.ExitCode() == 1: // findings of error severity
	case err != nil:
		run.Failure = fmt.Sprintf("%v: %s", err, lastLines(stderr.String(), 5))
		return run
	}
	if err := json.Unmarshal(stdout.Bytes(), &run.Findings); err != nil {
		run.Failure = fmt.Sprintf("unreadable JSON output: %v", err)
		return run
	}
	for i := range run.Findings {
		f := &run.Findings[i]
		if f.File != "" && !filepath.IsAbs(f.File) {
			f.File = filepath.Join(s.Dir, f.File)
		}
	}
	return run
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
