package verifier

import (
	"fmt"
	"os"
	"runtime"
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
// cross-check needs, from its effective capability set (not its uid: root
// can lack capabilities): CAP_SYS_ADMIN, or CAP_BPF + CAP_PERFMON (graph
// kfuncs and bpf_obj_new need CAP_PERFMON; without it the kernel rejects
// correct programs with EPERM). It also loads a trivial tc program, which
// proves the bpf syscall works. The error says what is missing and how to
// get it.
func Probe() error {
	if err := probeKernelBTF(); err != nil {
		return err
	}
	caps := capabilities()
	const prefix = "kernel verifier cross-check disabled: "
	if !caps.has(capSysAdmin) && !(caps.has(capBPF) && caps.has(capPerfmon)) {
		missing := "CAP_BPF and CAP_PERFMON"
		switch {
		case caps.has(capBPF):
			missing = "CAP_PERFMON"
		case caps.has(capPerfmon):
			missing = "CAP_BPF"
		}
		return &CapabilityError{Msg: fmt.Sprintf(prefix+"%s missing (%s); without it the kernel refuses correct programs (graph kfuncs and bpf_obj_new need CAP_PERFMON), which says nothing about lock bugs -> run as root with full capabilities, or grant CAP_BPF + CAP_PERFMON (+ CAP_NET_ADMIN for tc/xdp programs)", missing, caps)}
	}
	// r0 = 0; exit
	insns := []uint64{0x00000000000000b7, 0x0000000000000095}
	license := []byte("GPL\x00")
	attr := progLoadAttr{progType: 3 /* BPF_PROG_TYPE_SCHED_CLS */, insnCnt: 2,
		insns:   uint64(uintptr(unsafe.Pointer(&insns[0]))),
		license: uint64(uintptr(unsafe.Pointer(&license[0])))}
	fd, errno := bpfSyscall(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(insns)
	runtime.KeepAlive(license)
	if errno != 0 {
		return &CapabilityError{Msg: fmt.Sprintf(prefix+"probe BPF_PROG_LOAD: %v (%s) -> run as root, or grant CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN", errno, caps)}
	}
	unix.Close(fd)
	return nil
}

// probeKernelBTF tells an absent kernel BTF from an unreadable one.
func probeKernelBTF() error {
	f, err := os.Open("/sys/kernel/btf/vmlinux")
	if err != nil {
		return kernelBTFError(err)
	}
	return f.Close()
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
