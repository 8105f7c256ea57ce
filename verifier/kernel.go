package verifier

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// What the loader needs from the running kernel besides the verifier:
// types from vmlinux and module BTF, kernel symbol addresses and the number
// of possible CPUs, looked up as libbpf looks them up.

// kernelCache holds vmlinux and module BTF for the life of the process.
var kernelCache = btf.NewCache()

// errNotInKernel means a name is in neither vmlinux nor any module's BTF.
var errNotInKernel = errors.New("not in the running kernel's BTF")

// kernelBTFError says why kernel BTF could not be read: absent (a kernel
// without CONFIG_DEBUG_INFO_BTF) is not the same problem as unreadable.
func kernelBTFError(err error) error {
	const prefix = "kernel verifier cross-check disabled: "
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, btf.ErrNotSupported):
		return &CapabilityError{Msg: prefix + "kernel BTF is absent (/sys/kernel/btf/vmlinux does not exist) -> a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed"}
	case errors.Is(err, fs.ErrPermission):
		return &CapabilityError{Msg: fmt.Sprintf(prefix+"kernel BTF is unreadable (%v) -> make /sys/kernel/btf/vmlinux readable by this user", err)}
	}
	return &CapabilityError{Msg: fmt.Sprintf(prefix+"kernel BTF could not be parsed: %v", err)}
}

// vmlinuxBTF returns the running kernel's BTF or a CapabilityError.
func vmlinuxBTF() (*btf.Spec, error) {
	spec, err := kernelCache.Kernel()
	if err != nil {
		return nil, kernelBTFError(err)
	}
	return spec, nil
}

// moduleBTF is one loaded module's BTF and a handle on its kernel object
// (programs name module types by that object's fd).
type moduleBTF struct {
	name   string
	spec   *btf.Spec
	handle *btf.Handle
}

// kernelBTF finds types in vmlinux, then in every loaded module. Module
// handles are opened on first use and closed by close.
type kernelBTF struct {
	vmlinux *btf.Spec
	modules []*moduleBTF
	listed  bool
	listErr error
}

// kernelType is a type found in the kernel: module is nil for vmlinux.
type kernelType struct {
	typ    btf.Type
	id     btf.TypeID
	module *moduleBTF
}

// objFD is the BTF object fd a program passes for the type (0: vmlinux).
func (t kernelType) objFD() int {
	if t.module == nil {
		return 0
	}
	return t.module.handle.FD()
}

func (k *kernelBTF) close() {
	for _, m := range k.modules {
		m.handle.Close()
	}
	k.modules = nil
}

// find returns the first type called name for which match holds, searching
// vmlinux and then the modules in load order.
func (k *kernelBTF) find(name string, match func(btf.Type) bool) (kernelType, error) {
	if t, id, ok := findIn(k.vmlinux, name, match); ok {
		return kernelType{typ: t, id: id}, nil
	}
	if err := k.listModules(); err != nil {
		return kernelType{}, err
	}
	for _, m := range k.modules {
		if t, id, ok := findIn(m.spec, name, match); ok {
			return kernelType{typ: t, id: id, module: m}, nil
		}
	}
	return kernelType{}, fmt.Errorf("%s: %w", name, errNotInKernel)
}

func findIn(spec *btf.Spec, name string, match func(btf.Type) bool) (btf.Type, btf.TypeID, bool) {
	ts, err := spec.AnyTypesByName(name)
	if err != nil {
		return nil, 0, false
	}
	for _, t := range ts {
		if !match(t) {
			continue
		}
		if id, err := spec.TypeID(t); err == nil {
			return t, id, true
		}
	}
	return nil, 0, false
}

// listModules opens a handle on every module BTF object the kernel holds.
func (k *kernelBTF) listModules() error {
	if k.listed {
		return k.listErr
	}
	k.listed = true
	it := new(btf.HandleIterator)
	for it.Next() {
		info, err := it.Handle.Info()
		if err != nil {
			k.listErr = fmt.Errorf("module BTF %d: %w", it.ID, err)
			break
		}
		if !info.IsModule() {
			continue
		}
		spec, err := kernelCache.Module(info.Name)
		if err != nil {
			k.listErr = fmt.Errorf("module BTF %s: %w", info.Name, err)
			break
		}
		k.modules = append(k.modules, &moduleBTF{name: info.Name, spec: spec, handle: it.Take()})
	}
	if it.Handle != nil {
		it.Handle.Close()
	}
	if k.listErr == nil && it.Err() != nil {
		k.listErr = fmt.Errorf("list module BTF: %w", it.Err())
	}
	return k.listErr
}

func isFunc(t btf.Type) bool    { _, ok := t.(*btf.Func); return ok }
func isVar(t btf.Type) bool     { _, ok := t.(*btf.Var); return ok }
func isStruct(t btf.Type) bool  { _, ok := t.(*btf.Struct); return ok }
func isTypedef(t btf.Type) bool { _, ok := t.(*btf.Typedef); return ok }

// kallsyms returns the addresses of the named kernel symbols that
// /proc/kallsyms lists (untyped __ksym externs resolve to these).
func kallsyms(names map[string]bool) (map[string]uint64, error) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "ffffffff81000000 T _text" or "... t name\t[module]"
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || !names[fields[2]] {
			continue
		}
		if _, seen := out[fields[2]]; seen {
			continue
		}
		addr, err := strconv.ParseUint(fields[0], 16, 64)
		if err == nil {
			out[fields[2]] = addr
		}
	}
	return out, sc.Err()
}

// possibleCPUs counts the CPUs in /sys/devices/system/cpu/possible
// ("0-3,5"): libbpf sizes perf event arrays declared without max_entries
// to it.
func possibleCPUs() (int, error) {
	data, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(data)), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("cpu list %q: %w", data, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return 0, fmt.Errorf("cpu list %q: %w", data, err)
			}
		}
		n += b - a + 1
	}
	return n, nil
}
