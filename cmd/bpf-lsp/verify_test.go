package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// TestMain lets tests run the CLI as a child process (for signals and
// capabilities): with BPF_LSP_RUN_MAIN=1 the test binary is bpf-lsp.
func TestMain(m *testing.M) {
	if os.Getenv("BPF_LSP_RUN_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cliCommand is the CLI as a child process, with its own temp directory.
func cliCommand(t *testing.T, tmp string, prefix []string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append(append(prefix, self), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "BPF_LSP_RUN_MAIN=1", "TMPDIR="+tmp)
	return cmd
}

func needVerifier(t *testing.T) {
	t.Helper()
	if err := verifier.Probe(); err != nil {
		testenv.Skip(t, "%v", err)
	}
}

// hangingClang writes a fake clang that starts a child and then sleeps;
// both write their pids to pidFile.
func hangingClang(t *testing.T, dir, pidFile string) string {
	t.Helper()
	path := filepath.Join(dir, "fake-clang")
	script := "#!/bin/sh\nsleep 600 &\necho $! >> " + pidFile + "\necho $$ >> " + pidFile + "\nsleep 600\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// alive reports which of the pids in pidFile still exist.
func alive(t *testing.T, pidFile string) []int {
	t.Helper()
	data, _ := os.ReadFile(pidFile)
	var out []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		// A killed child of an exited parent may linger as a zombie
		// until init reaps it: only a running process counts.
		if stat, err := os.ReadFile("/proc/" + f + "/stat"); err == nil && !strings.Contains(string(stat), ") Z ") {
			out = append(out, pid)
		}
	}
	return out
}

// checkCleanedUp fails if a process from pidFile still runs (and kills it)
// or tmp is not empty.
func checkCleanedUp(t *testing.T, pidFile, tmp string) {
	t.Helper()
	if left := alive(t, pidFile); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func writeSource(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "prog.bpf.c")
	if err := os.WriteFile(src, []byte("int x;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// A clang that never finishes: verify gives up after its timeout, kills
// clang's whole process group and leaves no temporary directory.
func TestVerifyHangingClangTimesOut(t *testing.T) {
	needVerifier(t)
	dir, tmp := t.TempDir(), t.TempDir()
	pids := filepath.Join(dir, "pids")
	clang := hangingClang(t, dir, pids)
	cmd := cliCommand(t, tmp, nil, "verify", "--clang", clang, "--timeout", "2s", writeSource(t, dir))
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if elapsed > 4*time.Second {
		t.Errorf("verify took %v with a 2 s timeout", elapsed)
	}
	if !strings.Contains(string(out), "timed out after 2 s") {
		t.Errorf("output does not say it timed out:\n%s", out)
	}
	if cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("exit code %d, want 1 (the program could not be verified)", cmd.ProcessState.ExitCode())
	}
	checkCleanedUp(t, pids, tmp)
}

// SIGTERM and SIGINT stop verify at once, clang included, and remove its
// temporary directory.
func TestVerifySignalCleansUp(t *testing.T) {
	needVerifier(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			pids := filepath.Join(dir, "pids")
			cmd := cliCommand(t, tmp, nil, "verify", "--clang", hangingClang(t, dir, pids), writeSource(t, dir))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(20 * time.Second); len(alive(t, pids)) < 2; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("the fake clang never started")
				}
			}
			cmd.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("verify still running 3 s after %v", sig)
			}
			if code := cmd.ProcessState.ExitCode(); code != 130 {
				t.Errorf("exit code %d, want 130", code)
			}
			checkCleanedUp(t, pids, tmp)
		})
	}
}

// A relative --clang is refused (exit 2): an editor setting must not run a
// program from the workspace.
func TestVerifyRefusesRelativeClang(t *testing.T) {
	needVerifier(t)
	dir := t.TempDir()
	code, _, errs := runCmd("verify", "--clang", "./bin/clang", writeSource(t, dir))
	if code != 2 || !strings.Contains(errs, "relative") {
		t.Errorf("exit %d, stderr %q; want 2 and a message about the relative path", code, errs)
	}
}

// Root without CAP_PERFMON (and CAP_SYS_ADMIN): the kernel would refuse
// correct graph programs, so verify must refuse to give verdicts (exit 3)
// instead of reporting rejections.
func TestVerifyWithoutPerfmonExits3(t *testing.T) {
	needVerifier(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		testenv.Skip(t, "setpriv not installed: %v", err)
	}
	drop := []string{setpriv, "--inh-caps=-perfmon,-sys_admin", "--bounding-set=-perfmon,-sys_admin"}
	cmd := cliCommand(t, t.TempDir(), drop, "verify", "../../testdata/held_at_return.bpf.c", "-I", "../../testdata/include")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("want exit 3, got %v:\n%s", err, out)
	}
	if !strings.Contains(string(out), "CAP_PERFMON missing") {
		t.Errorf("message does not name CAP_PERFMON:\n%s", out)
	}
}

// verify --log on saved bpftool -d output: one rejection per program,
// bpftool's own lines ignored, a 7.3 causal path as related locations.
func TestVerifyLog(t *testing.T) {
	code, out, errs := runCmd("verify", "--log", "../../verifier/testdata/bpftool-d-wrong-lock.log")
	if code != 1 || strings.Count(out, "rejected by the kernel") != 1 || strings.Contains(out, "Error:") {
		t.Errorf("exit %d, stderr %q, want one rejection:\n%s", code, errs, out)
	}
	code, out, errs = runCmd("verify", "--log", "../../verifier/testdata/bpftool-d-leak-removed-7.3.log", "--format", "json")
	if code != 1 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var got []verifier.LogProgram
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got) != 1 || got[0].Program != "take" || got[0].Code != "BL210" || got[0].Line != 27 || len(got[0].Related) != 1 ||
		got[0].Related[0].Line != 24 || got[0].Related[0].Column != 6 || got[0].Related[0].Insn != 10 {
		t.Errorf("got %s", out)
	}
}
