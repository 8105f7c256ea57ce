package verifier

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Capability bits (linux/capability.h).
const (
	capNetAdmin = 12
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// Probe checks that this process may load BPF programs the way the
// cross-check needs (graph programs need CAP_PERFMON too), by loading a
// trivial program. The error says exactly what is missing and how to get it.
func Probe() error {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return &CapabilityError{Msg: "kernel verifier cross-check disabled: /sys/kernel/btf/vmlinux is missing -> a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed"}
	}
	caps := capabilities()
	// r0 = 0; exit
	insns := []uint64{0x00000000000000b7, 0x0000000000000095}
	license := []byte("GPL\x00")
	attr := progLoadAttr{progType: 3 /* BPF_PROG_TYPE_SCHED_CLS */, insnCnt: 2,
		insns:   uint64(uintptr(unsafe.Pointer(&insns[0]))),
		license: uint64(uintptr(unsafe.Pointer(&license[0])))}
	fd, errno := bpfSyscall(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if errno != 0 {
		return &CapabilityError{Msg: fmt.Sprintf("kernel verifier cross-check disabled: probe BPF_PROG_LOAD: %v (%s) -> run as root, or grant CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON", errno, caps)}
	}
	unix.Close(fd)
	if os.Geteuid() != 0 && !caps.has(capSysAdmin) && !caps.has(capPerfmon) {
		return &CapabilityError{Msg: fmt.Sprintf("kernel verifier cross-check disabled: CAP_PERFMON missing (%s); programs using bpf_obj_new or graph kfuncs would be rejected with EPERM, which is not a lock bug -> run as root or grant CAP_PERFMON", caps)}
	}
	return nil
}

type capSet struct {
	uid       int
	effective uint64
}

func (c capSet) has(bit uint) bool { return c.effective&(1<<bit) != 0 }

func (c capSet) String() string {
	unpriv, _ := os.ReadFile("/proc/sys/kernel/unprivileged_bpf_disabled")
	return fmt.Sprintf("uid=%d CAP_SYS_ADMIN=%v CAP_BPF=%v CAP_NET_ADMIN=%v CAP_PERFMON=%v, kernel.unprivileged_bpf_disabled=%s",
		c.uid, c.has(capSysAdmin), c.has(capBPF), c.has(capNetAdmin), c.has(capPerfmon), strings.TrimSpace(string(unpriv)))
}

func capabilities() capSet {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	c := capSet{uid: os.Geteuid()}
	if err := unix.Capget(&hdr, &data[0]); err == nil {
		c.effective = uint64(data[0].Effective) | uint64(data[1].Effective)<<32
	}
	return c
}
