package verifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Running clang: only the compiler the user configured (absolute, or a
// command name looked up on PATH, never a path relative to the workspace),
// in its own process group so that a timeout or cancellation kills clang
// and everything it started, with its output bounded.

// ConfigError is a bad setting (exit code 2 in the CLI).
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// clangPath resolves the configured compiler: an absolute path, or a
// command name (no slash) found on PATH. A relative path is refused: an
// editor setting must never run a program from the workspace.
func clangPath(configured string) (string, error) {
	candidates := []string{"clang-19", "clang"}
	if configured != "" {
		if !filepath.IsAbs(configured) && strings.ContainsRune(configured, filepath.Separator) {
			return "", &ConfigError{Msg: fmt.Sprintf("clang path %q is relative: give an absolute path or a command name found on PATH", configured)}
		}
		candidates = []string{configured}
	}
	for _, c := range candidates {
		p, err := exec.LookPath(c)
		if err == nil && filepath.IsAbs(p) {
			return p, nil
		}
	}
	return "", &CapabilityError{Msg: fmt.Sprintf("kernel verifier cross-check disabled: %s not found -> install clang (apt-get install clang-19) or pass --clang PATH", strings.Join(candidates, " or "))}
}

// CompileError is clang failing on a source (or timing out): the program
// cannot be verified, which is a result, not a failure of the run.
type CompileError struct{ Msg string }

func (e *CompileError) Error() string { return e.Msg }

// maxCompilerOutput bounds what is kept of clang's diagnostics.
const maxCompilerOutput = 1 << 20

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// compile runs clang for the BPF target with the file's own flags. On
// timeout or cancellation the whole process group is killed; whatever
// clang left running is killed when it exits, too.
func compile(ctx context.Context, clang string, timeout time.Duration, flags []string, src, out string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := append([]string{"-target", "bpf", "-g", "-O2"}, flags...)
	args = append(args, "-c", src, "-o", out)
	cmd := exec.CommandContext(ctx, clang, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	output := &limitedBuffer{max: maxCompilerOutput}
	cmd.Stdout, cmd.Stderr = output, output
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // children clang left behind
	}
	name := filepath.Base(clang)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &CompileError{Msg: fmt.Sprintf("%s timed out after %d s", name, int(timeout.Seconds()))}
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", name, ctx.Err())
	case err != nil:
		return &CompileError{Msg: fmt.Sprintf("%s failed: %v\n%s", name, err, strings.TrimSpace(output.String()))}
	}
	return nil
}

// tempPrefix names the verifier's temporary directories; the pid after it
// lets a later run remove what a killed one left.
const tempPrefix = "bpf-lsp-verify-"

func makeTempDir() (string, error) {
	return os.MkdirTemp("", fmt.Sprintf("%s%d-", tempPrefix, os.Getpid()))
}

// removeStaleTempDirs removes temporary directories of runs whose process
// no longer exists (killed with SIGKILL, which no handler sees).
func removeStaleTempDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*-*"))
	for _, d := range dirs {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), tempPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}
