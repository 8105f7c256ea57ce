package vm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// bootOutcome is what one boot reported.
type bootOutcome struct {
	release string      // the guest kernel's uname -r
	lines   []guestLine // program lines
	console string      // the console's last lines, for errors
}

// consoleTail bounds the console text kept for error messages.
const consoleTail = 4096

// boot runs one VM with the kernel image and the initramfs and collects
// the guest's report. The VM powers itself off; timeout bounds it anyway.
func boot(ctx context.Context, opts Options, image, initrd string) (bootOutcome, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	args := []string{
		"-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
		"-serial", "stdio", "-no-reboot", "-m", fmt.Sprint(opts.MemoryMB),
		"-accel", opts.Accel, "-kernel", image, "-initrd", initrd,
		"-append", "console=ttyS0 quiet panic=-1",
	}
	cmd := exec.CommandContext(ctx, opts.Qemu, args...)
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	runErr := cmd.Run()
	out := parseConsole(stdout.Bytes())
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return out, fmt.Errorf("VM timed out after %s; console: %s", opts.Timeout, out.console)
	case ctx.Err() != nil:
		return out, ctx.Err()
	case runErr != nil:
		return out, fmt.Errorf("%s: %v: %s", opts.Qemu, runErr, strings.TrimSpace(stderr.String()))
	}
	if !out.done() {
		return out, fmt.Errorf("the guest stopped before reporting every program; console: %s", out.console)
	}
	return out, nil
}

func (o bootOutcome) done() bool {
	return len(o.lines) > 0 && o.lines[len(o.lines)-1].Done
}

// parseConsole picks the protocol lines out of the serial output (the
// kernel's own messages may come in between).
func parseConsole(b []byte) bootOutcome {
	var out bootOutcome
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		i := strings.Index(line, linePrefix)
		if i < 0 {
			continue
		}
		var l guestLine
		if err := json.Unmarshal([]byte(line[i+len(linePrefix):]), &l); err != nil {
			continue // a line broken by kernel output; the program will be reported missing
		}
		if l.Kernel != "" {
			out.release = l.Kernel
			continue
		}
		out.lines = append(out.lines, l)
	}
	c := b
	if len(c) > consoleTail {
		c = c[len(c)-consoleTail:]
	}
	out.console = strings.TrimSpace(strings.ReplaceAll(string(c), "\r", ""))
	return out
}

// qemuCheck reports a missing qemu as a capability error.
func qemuCheck(qemu string) error {
	if _, err := exec.LookPath(qemu); err != nil {
		return capabilityf("%s not found -> apt-get install qemu-system-x86 (or make deps)", qemu)
	}
	return nil
}
