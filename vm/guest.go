package vm

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// The guest side: /init of the initramfs. It verifies every object under
// objectsDir with the project's own loader and reports over the serial
// console, one line per program, then powers the VM off.

const (
	objectsDir = "/objects"
	// linePrefix marks protocol lines among the kernel's console output.
	linePrefix = "@bpf-lsp@ "
	// logTailLines bounds what a rejection sends back: the serial console
	// is slow (0.25-0.5 MB/s) and the message is at the end of the log.
	logTailLines = 30
)

// guestLine is one protocol line: the kernel release first, then one line
// per program (or per object that could not be loaded), then Done.
type guestLine struct {
	Kernel  string `json:"kernel,omitempty"`
	Object  int    `json:"object"`
	Program string `json:"program,omitempty"`
	Section string `json:"section,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	Message string `json:"message,omitempty"`
	Insn    int    `json:"insn"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Code    string `json:"code,omitempty"`
	Log     string `json:"log,omitempty"`
	Done    bool   `json:"done,omitempty"`
}

// GuestMain is the guest's init: it never returns normally (the VM powers
// off); an error is printed to the console first.
func GuestMain() {
	if err := guestRun(os.Stdout); err != nil {
		fmt.Fprintf(os.Stdout, "bpf-lsp guest: %v\n", err)
	}
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

func guestRun(out io.Writer) error {
	for _, m := range []struct{ src, dst, fstype string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"},
	} {
		if err := unix.Mount(m.src, m.dst, m.fstype, 0, ""); err != nil && err != unix.EBUSY {
			return fmt.Errorf("mount %s: %w", m.dst, err)
		}
	}
	// Before 5.11 BPF memory is charged to RLIMIT_MEMLOCK (64 KiB for init).
	inf := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &inf); err != nil {
		return fmt.Errorf("raise memlock limit: %w", err)
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return err
	}
	emit := func(l guestLine) {
		b, _ := json.Marshal(l)
		fmt.Fprintf(out, "%s%s\n", linePrefix, b)
	}
	emit(guestLine{Kernel: unix.ByteSliceToString(uts.Release[:])})
	names, err := filepath.Glob(filepath.Join(objectsDir, "*.o"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		var idx int
		if _, err := fmt.Sscanf(filepath.Base(name), "%d.o", &idx); err != nil {
			continue
		}
		obj, err := os.ReadFile(name)
		if err != nil {
			emit(guestLine{Object: idx, Verdict: verifier.Failed, Message: err.Error(), Insn: -1})
			continue
		}
		rs, err := verifier.VerifyObject(obj, filepath.Base(name))
		if err != nil {
			emit(guestLine{Object: idx, Verdict: verifier.Failed, Message: err.Error(), Insn: -1})
			continue
		}
		for _, r := range rs {
			l := guestLine{Object: idx, Program: r.Program, Section: r.Section, Verdict: r.Verdict, Message: r.Message,
				Insn: r.Insn, File: r.SourceFile, Line: r.Line, Column: r.Column, Code: r.Code}
			if r.Verdict == verifier.Reject {
				l.Log = tail(r.Log, logTailLines)
			}
			emit(l)
		}
	}
	emit(guestLine{Done: true})
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
