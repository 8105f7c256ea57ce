package vm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// kvmProbeTimeout bounds the probe boot: a working KVM boots a kernel and
// powers off in about a second; stock kernels on some nested (paravirtual)
// KVM devices hang early in boot instead.
const kvmProbeTimeout = 20 * time.Second

// chooseAccel picks KVM when /dev/kvm opens and a probe boot (the guest
// with no objects) completes under it, TCG otherwise. The outcome is kept
// in the cache per host kernel release, so the probe runs once.
func chooseAccel(ctx context.Context, opts Options, image, base string) string {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "tcg"
	}
	f.Close()
	var uts unix.Utsname
	unix.Uname(&uts)
	memo := filepath.Join(opts.CacheDir, "accel-"+unix.ByteSliceToString(uts.Release[:]))
	if b, err := os.ReadFile(memo); err == nil {
		if a := strings.TrimSpace(string(b)); a == "kvm" || a == "tcg" {
			return a
		}
	}
	opts.Progress("probing KVM")
	probe := opts
	probe.Accel, probe.Timeout = "kvm", kvmProbeTimeout
	accel := "tcg"
	if _, err := boot(ctx, probe, image, base); err == nil {
		accel = "kvm"
	}
	if ctx.Err() == nil {
		os.WriteFile(memo, []byte(accel+"\n"), 0o644)
	}
	return accel
}
