package verifier

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// The loader: cilium/ebpf parses the ELF object, resolves CO-RE and encodes
// instructions and line info, but map creation and program load are raw
// bpf(2) calls, so that maps and programs share ONE BTF object. The kernel
// compares a node type from bpf_obj_new (program BTF) with a root's
// __contains type (map BTF) by BTF object identity; cilium/ebpf gives each
// its own BTF and so rejects correct graph programs.

// loadedProgram is the kernel's verdict on one program of an object.
type loadedProgram struct {
	name, section string
	accepted      bool
	errno         unix.Errno
	log           string
	insns         asm.Instructions // as loaded (subprograms appended)
	err           error            // a failure before the kernel saw the program
}

// bssRename maps a renamed section back to its real name.
type bssRename map[string]string

// renameBSSSections renames ".bss.NAME" sections to ".dataNAME" (same
// length) in a copy of the ELF image: cilium/ebpf only treats ".bss",
// ".data*" and ".rodata*" as data sections and fails the relocations of
// ".bss.NAME" otherwise. The name is replaced in every string table (section
// names, symbols and the BTF Datasec), so sizes and offsets still match up;
// NOBITS sections stay zero-filled. Maps get their real name back at creation.
func renameBSSSections(obj []byte) ([]byte, bssRename, error) {
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return nil, nil, fmt.Errorf("read ELF: %w", err)
	}
	defer f.Close()
	out := obj
	renamed := bssRename{}
	for _, s := range f.Sections {
		rest, ok := strings.CutPrefix(s.Name, ".bss.")
		if !ok || rest == "" {
			continue
		}
		if len(renamed) == 0 {
			out = append([]byte{}, obj...)
		}
		newName := ".data" + rest
		out = bytes.ReplaceAll(out, []byte(s.Name+"\x00"), []byte(newName+"\x00"))
		renamed[newName] = s.Name
	}
	return out, renamed, nil
}

// realName returns a map's name as the program declared it.
func (r bssRename) realName(name string) string {
	if real, ok := r[name]; ok {
		return real
	}
	return name
}

// fdMap satisfies asm.FDer for AssociateMap.
type fdMap int

func (m fdMap) FD() int { return int(m) }

// loadObject loads every program of an ELF object separately into the
// kernel verifier and closes everything afterwards.
func loadObject(obj []byte, kernel *btf.Spec) ([]loadedProgram, error) {
	obj, renamed, err := renameBSSSections(obj)
	if err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
	if err != nil {
		return nil, fmt.Errorf("parse object: %w", err)
	}

	// One builder for every type of the object: the maps' value types, the
	// programs' functions and lines, and the __contains targets that only a
	// tag names.
	var b btf.Builder
	if spec.Types != nil {
		for t, err := range spec.Types.All() {
			if err != nil {
				return nil, fmt.Errorf("object BTF: %w", err)
			}
			switch x := t.(type) {
			case *btf.Datasec:
				if x.Name == ".ksyms" || x.Name == ".kconfig" {
					continue
				}
			case *btf.Func:
				if x.Linkage == btf.ExternFunc {
					continue // the kernel refuses FUNCs with extern linkage
				}
			}
			if _, err := b.Add(t); err != nil {
				return nil, fmt.Errorf("object BTF: %w", err)
			}
		}
	}

	names := make([]string, 0, len(spec.Programs))
	for name, p := range spec.Programs {
		if p.Type == ebpf.UnspecifiedProgram {
			continue // .text: subprograms appended to their callers
		}
		names = append(names, name)
	}
	sort.Strings(names)

	type prepared struct {
		prog                 *ebpf.ProgramSpec
		insns                asm.Instructions
		funcInfos, lineInfos []byte
		err                  error
	}
	preps := make([]prepared, len(names))
	for i, name := range names {
		p := spec.Programs[name]
		insns := append(asm.Instructions{}, p.Instructions...)
		preps[i] = prepared{prog: p, insns: insns}
		if err := fixupProgram(insns, kernel, &b); err != nil {
			preps[i].err = err
			continue
		}
		fi, li, err := btf.MarshalExtInfos(insns, &b)
		if err != nil {
			preps[i].err = fmt.Errorf("line info: %w", err)
			continue
		}
		preps[i].funcInfos, preps[i].lineInfos = fi, li
	}

	raw, err := b.Marshal(nil, btf.KernelMarshalOptions())
	if err != nil {
		return nil, fmt.Errorf("marshal BTF: %w", err)
	}
	h, err := btf.NewHandleFromRawBTF(raw)
	if err != nil {
		return nil, fmt.Errorf("load BTF: %w", err)
	}
	defer h.Close()

	maps := map[string]int{}
	defer func() {
		for _, fd := range maps {
			unix.Close(fd)
		}
	}()
	for name, m := range spec.Maps {
		if name == ".ksyms" || name == ".kconfig" {
			continue
		}
		fd, err := createMap(name, renamed.realName(name), m, &b, h.FD())
		if err != nil {
			return nil, err
		}
		maps[name] = fd
	}

	var out []loadedProgram
	for i, name := range names {
		pp := preps[i]
		lp := loadedProgram{name: name, section: pp.prog.SectionName, insns: pp.insns}
		if pp.err != nil {
			lp.err = pp.err
			out = append(out, lp)
			continue
		}
		for j := range pp.insns {
			ins := &pp.insns[j]
			if ref := ins.Reference(); ref != "" && ins.IsLoadFromMap() {
				fd, ok := maps[ref]
				if !ok {
					lp.err = fmt.Errorf("program %s: reference to unknown map %s", name, ref)
					break
				}
				if err := ins.AssociateMap(fdMap(fd)); err != nil {
					lp.err = fmt.Errorf("program %s: %w", name, err)
					break
				}
			}
		}
		if lp.err == nil {
			lp.accepted, lp.errno, lp.log, lp.err = loadProgram(pp.prog, pp.insns, pp.funcInfos, pp.lineInfos, h.FD())
		}
		out = append(out, lp)
	}
	return out, nil
}

// fixupProgram applies CO-RE relocations (local type ids come from the
// shared builder) and points kfunc calls at the kernel's BTF ids.
func fixupProgram(insns asm.Instructions, kernel *btf.Spec, b *btf.Builder) error {
	var relos []*btf.CORERelocation
	var idx []int
	for i := range insns {
		if r := btf.CORERelocationMetadata(&insns[i]); r != nil {
			relos = append(relos, r)
			idx = append(idx, i)
		}
	}
	if len(relos) > 0 {
		fixups, err := btf.CORERelocate(relos, []*btf.Spec{kernel}, binary.LittleEndian, b.Add)
		if err != nil {
			return fmt.Errorf("CO-RE: %w", err)
		}
		for i, f := range fixups {
			if err := f.Apply(&insns[idx[i]]); err != nil {
				return fmt.Errorf("CO-RE: %w", err)
			}
		}
	}
	for i := range insns {
		ins := &insns[i]
		if !ins.IsKfuncCall() {
			continue
		}
		var fn *btf.Func
		if err := kernel.TypeByName(ins.Reference(), &fn); err != nil {
			return fmt.Errorf("kfunc %s is not in the running kernel's BTF: %w", ins.Reference(), err)
		}
		id, err := kernel.TypeID(fn)
		if err != nil {
			return fmt.Errorf("kfunc %s: %w", ins.Reference(), err)
		}
		ins.Constant = int64(id)
		ins.Offset = 0
	}
	return nil
}

// Kernel ABI structures (uapi linux/bpf.h), only the fields used.
type mapCreateAttr struct {
	mapType, keySize, valueSize, maxEntries, mapFlags uint32
	innerMapFD, numaNode                              uint32
	mapName                                           [16]byte
	mapIfindex                                        uint32
	btfFD, btfKeyTypeID, btfValueTypeID               uint32
	btfVmlinuxValueTypeID                             uint32
	mapExtra                                          uint64
}

type progLoadAttr struct {
	progType, insnCnt               uint32
	insns, license                  uint64
	logLevel, logSize               uint32
	logBuf                          uint64
	kernVersion, progFlags          uint32
	progName                        [16]byte
	progIfindex, expectedAttachType uint32
	progBTFFD, funcInfoRecSize      uint32
	funcInfo                        uint64
	funcInfoCnt, lineInfoRecSize    uint32
	lineInfo                        uint64
	lineInfoCnt, attachBTFID        uint32
	attachProgFD, coreReloCnt       uint32
	fdArray, coreRelos              uint64
	coreReloRecSize, logTrueSize    uint32
	progTokenFD, fdArrayCnt         uint32
	signature                       uint64
	signatureSize, keyringID        uint32
}

const bpfFMmapable = 1 << 10

func bpfSyscall(cmd int, attr unsafe.Pointer, size uintptr) (int, unix.Errno) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	return int(r), errno
}

// objName is a kernel object name: at most 15 bytes of [A-Za-z0-9_.].
func objName(s string) [16]byte {
	var n [16]byte
	i := 0
	for _, c := range []byte(s) {
		if i == 15 {
			break
		}
		if c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			n[i] = c
			i++
		}
	}
	return n
}

func createMap(specName, realName string, m *ebpf.MapSpec, b *btf.Builder, btfFD int) (int, error) {
	attr := mapCreateAttr{
		mapType: uint32(m.Type), keySize: m.KeySize, valueSize: m.ValueSize,
		maxEntries: m.MaxEntries, mapFlags: m.Flags, mapName: objName(realName), btfFD: uint32(btfFD),
	}
	if ds, ok := m.Value.(*btf.Datasec); ok {
		id, err := b.Add(ds)
		if err != nil {
			return -1, fmt.Errorf("map %s: %w", realName, err)
		}
		attr.btfValueTypeID = uint32(id)
		if strings.HasPrefix(specName, ".data") || strings.HasPrefix(specName, ".bss") {
			attr.mapFlags |= bpfFMmapable
		}
	} else if m.Key != nil && m.Value != nil {
		k, err := b.Add(m.Key)
		if err != nil {
			return -1, fmt.Errorf("map %s key: %w", realName, err)
		}
		v, err := b.Add(m.Value)
		if err != nil {
			return -1, fmt.Errorf("map %s value: %w", realName, err)
		}
		attr.btfKeyTypeID, attr.btfValueTypeID = uint32(k), uint32(v)
	}
	if attr.btfValueTypeID == 0 {
		attr.btfFD = 0
	}
	for range 5 {
		fd, errno := bpfSyscall(unix.BPF_MAP_CREATE, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		if errno == unix.EAGAIN {
			continue
		}
		if errno != 0 {
			return -1, fmt.Errorf("create map %s: %w", realName, errno)
		}
		return fd, nil
	}
	return -1, fmt.Errorf("create map %s: %w", realName, unix.EAGAIN)
}

// loadProgram runs BPF_PROG_LOAD with a verifier log (level 1: the failing
// path only), growing the log buffer when it overflows and retrying when a
// signal interrupts verification (EAGAIN). The program fd is closed at once.
func loadProgram(p *ebpf.ProgramSpec, insns asm.Instructions, funcInfos, lineInfos []byte, btfFD int) (bool, unix.Errno, string, error) {
	var code bytes.Buffer
	if err := insns.Marshal(&code, binary.LittleEndian); err != nil {
		return false, 0, "", fmt.Errorf("encode %s: %w", p.Name, err)
	}
	license := append([]byte(p.License), 0)
	logSize := 1 << 20
	for attempt := 0; attempt < 12; attempt++ {
		logBuf := make([]byte, logSize)
		attr := progLoadAttr{
			progType: uint32(p.Type), insnCnt: uint32(code.Len() / asm.InstructionSize),
			insns:    uint64(uintptr(unsafe.Pointer(&code.Bytes()[0]))),
			license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
			logLevel: 1, logSize: uint32(logSize), logBuf: uint64(uintptr(unsafe.Pointer(&logBuf[0]))),
			progFlags: p.Flags, progName: objName(p.Name), expectedAttachType: uint32(p.AttachType), progBTFFD: uint32(btfFD),
		}
		if len(funcInfos) > 0 {
			attr.funcInfoRecSize, attr.funcInfo, attr.funcInfoCnt = 8, uint64(uintptr(unsafe.Pointer(&funcInfos[0]))), uint32(len(funcInfos)/8)
		}
		if len(lineInfos) > 0 {
			attr.lineInfoRecSize, attr.lineInfo, attr.lineInfoCnt = 16, uint64(uintptr(unsafe.Pointer(&lineInfos[0]))), uint32(len(lineInfos)/16)
		}
		fd, errno := bpfSyscall(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(code.Bytes())
		runtime.KeepAlive(license)
		runtime.KeepAlive(funcInfos)
		runtime.KeepAlive(lineInfos)
		log := string(bytes.TrimRight(logBuf[:max(bytes.IndexByte(logBuf, 0), 0)], "\n"))
		switch {
		case errno == 0:
			unix.Close(fd)
			return true, 0, log, nil
		case errno == unix.EAGAIN:
			continue
		case errno == unix.ENOSPC && logSize < 1<<30:
			logSize *= 4
			continue
		}
		return false, errno, log, nil
	}
	return false, unix.EAGAIN, "", errors.New("the kernel kept interrupting verification (EAGAIN)")
}
