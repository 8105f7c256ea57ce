package verifier

import (
	"bytes"
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

// Map creation and program load as raw bpf(2) calls (see loader.go for why).

// Kernel ABI structures (uapi linux/bpf.h), only the fields used.
type mapCreateAttr struct {
	mapType, keySize, valueSize, maxEntries, mapFlags uint32
	innerMapFD, numaNode                              uint32
	mapName                                           [16]byte
	mapIfindex                                        uint32
	btfFD, btfKeyTypeID, btfValueTypeID               uint32
	btfVmlinuxValueTypeID                             uint32
	mapExtra                                          uint64
	valueTypeBTFObjFD, mapTokenFD                     int32
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
	attachBTFObjFD, coreReloCnt     uint32
	fdArray, coreRelos              uint64
	coreReloRecSize, logTrueSize    uint32
	progTokenFD, fdArrayCnt         uint32
	signature                       uint64
	signatureSize, keyringID        uint32
}

type mapElemAttr struct {
	mapFD uint32
	_     uint32
	key   uint64
	value uint64
	flags uint64
}

const (
	bpfFMmapable          = 1 << 10
	bpfFRdonlyProg        = 1 << 7
	bpfFVtypeBTFObjFD     = 1 << 15
	bpfMapFreeze          = 22
	bpfMapTypeUserRingbuf = 31
)

func bpfSyscall(cmd int, attr unsafe.Pointer, size uintptr) (int, unix.Errno) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
		if errno != unix.EINTR {
			return int(r), errno
		}
	}
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

// createMaps creates every map of the object (and the .kconfig map when a
// program reads one), writes data sections' initial values and freezes
// the read-only ones, as libbpf does before it loads programs.
func (l *objectLoader) createMaps(btfFD int) error {
	names := make([]string, 0, len(l.spec.Maps))
	for name := range l.spec.Maps {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		m := l.spec.Maps[name]
		fd, err := l.createMap(l.renamed.realName(name), m, btfFD)
		if err != nil && m.Type == ebpf.StructOpsMap {
			// Programs reach a struct_ops map only through its struct,
			// which they fail to find themselves: theirs is the error.
			continue
		}
		if err != nil {
			return err
		}
		l.maps[name] = fd
		if isDataSection(name) && len(m.Contents) == 1 {
			value, ok := m.Contents[0].Value.([]byte)
			if !ok {
				return fmt.Errorf("map %s: unexpected initial value %T", name, m.Contents[0].Value)
			}
			if err := fillMap(fd, value, m.Flags&bpfFRdonlyProg != 0); err != nil {
				return fmt.Errorf("map %s: %w", l.renamed.realName(name), err)
			}
		}
		// Other initial contents (a prog array's programs, a map-in-map's
		// inner maps) are filled in after loading and do not affect the
		// verifier.
	}
	if l.kconfigSec != nil {
		l.createKconfig()
	}
	return nil
}

// isDataSection tells the maps cilium/ebpf makes of an object's global
// data (.bss, .data*, .rodata*, and .bss.NAME renamed to .dataNAME).
func isDataSection(name string) bool {
	return name == ".bss" || strings.HasPrefix(name, ".data") || strings.HasPrefix(name, ".rodata")
}

// createKconfig creates and fills the .kconfig map; a failure is kept for
// the programs that read it.
func (l *objectLoader) createKconfig() {
	data, err := kconfigData(l.kconfigSec, l.info.weak)
	if err != nil {
		l.kcErr = err
		return
	}
	attr := mapCreateAttr{mapType: uint32(ebpf.Array), keySize: 4, valueSize: uint32(len(data)), maxEntries: 1,
		mapFlags: bpfFRdonlyProg | bpfFMmapable, mapName: objName(".kconfig")}
	fd, err := createMapAttr(".kconfig", &attr)
	if err == nil {
		if err = fillMap(fd, data, true); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		l.kcErr = fmt.Errorf(".kconfig: %w", err)
		return
	}
	l.kconfig = fd
}

func (l *objectLoader) createMap(name string, m *ebpf.MapSpec, btfFD int) (int, error) {
	attr := mapCreateAttr{
		mapType: uint32(m.Type), keySize: m.KeySize, valueSize: m.ValueSize,
		maxEntries: m.MaxEntries, mapFlags: m.Flags, mapName: objName(name), btfFD: uint32(btfFD),
		mapExtra: m.MapExtra,
	}
	switch {
	case m.Type == ebpf.StructOpsMap:
		st, ok := m.Value.(*btf.Struct)
		if !ok {
			return -1, fmt.Errorf("struct_ops map %s: no struct type", name)
		}
		kt, err := l.kernel.find("bpf_struct_ops_"+essentialName(st.Name), isStruct)
		if err != nil {
			return -1, fmt.Errorf("unsupported: struct_ops map %s: %w", name, err)
		}
		attr.valueSize = kt.typ.(*btf.Struct).Size
		attr.btfVmlinuxValueTypeID = uint32(kt.id)
		if kt.module != nil {
			attr.valueTypeBTFObjFD = int32(kt.objFD())
			attr.mapFlags |= bpfFVtypeBTFObjFD
		}
	case m.Type == ebpf.RingBuf || m.Type == bpfMapTypeUserRingbuf:
		attr.maxEntries = ringbufSize(attr.maxEntries)
		attr.btfFD = 0
	case m.Type == ebpf.PerfEventArray:
		if attr.maxEntries == 0 {
			n, err := possibleCPUs()
			if err != nil {
				return -1, fmt.Errorf("map %s: size to the CPUs: %w", name, err)
			}
			attr.maxEntries = uint32(n)
		}
		attr.keySize, attr.valueSize = max(attr.keySize, 4), max(attr.valueSize, 4)
		attr.btfFD = 0
	case m.Type == ebpf.ArrayOfMaps || m.Type == ebpf.HashOfMaps:
		if m.InnerMap == nil {
			return -1, fmt.Errorf("map %s: map-in-map without an inner map", name)
		}
		inner, err := l.createMap(name+".inner", m.InnerMap, btfFD)
		if err != nil {
			return -1, err
		}
		defer unix.Close(inner)
		attr.innerMapFD = uint32(inner)
		attr.btfFD = 0
	case btfFD == 0:
		// no object BTF in the kernel: plain maps
	default:
		if err := l.mapBTF(name, m, &attr); err != nil {
			return -1, err
		}
	}
	fd, err := createMapAttr(name, &attr)
	if err != nil && (attr.btfKeyTypeID != 0 || attr.btfValueTypeID != 0) {
		// As libbpf: some map types take no BTF (sockmap: ENOTSUPP);
		// retry without it.
		attr.btfFD, attr.btfKeyTypeID, attr.btfValueTypeID = 0, 0, 0
		if retry, rerr := createMapAttr(name, &attr); rerr == nil {
			return retry, nil
		}
	}
	return fd, err
}

// mapBTF sets the BTF key and value types of a map; maps without both get
// no BTF.
func (l *objectLoader) mapBTF(name string, m *ebpf.MapSpec, attr *mapCreateAttr) error {
	if ds, ok := m.Value.(*btf.Datasec); ok {
		id, err := l.b.Add(ds)
		if err != nil {
			return fmt.Errorf("map %s: %w", name, err)
		}
		attr.btfValueTypeID = uint32(id)
		attr.mapFlags |= bpfFMmapable
		return nil
	}
	if m.Key == nil || m.Value == nil {
		attr.btfFD = 0
		return nil
	}
	k, err := l.b.Add(m.Key)
	if err != nil {
		return fmt.Errorf("map %s key: %w", name, err)
	}
	v, err := l.b.Add(m.Value)
	if err != nil {
		return fmt.Errorf("map %s value: %w", name, err)
	}
	attr.btfKeyTypeID, attr.btfValueTypeID = uint32(k), uint32(v)
	return nil
}

// ringbufSize rounds a ring buffer's size up as libbpf does: the smallest
// power-of-two multiple of the page size that holds it.
func ringbufSize(size uint32) uint32 {
	page := uint32(unix.Getpagesize())
	n := page
	for n < size && n < 1<<31 {
		n *= 2
	}
	return n
}

func createMapAttr(name string, attr *mapCreateAttr) (int, error) {
	for range 5 {
		fd, errno := bpfSyscall(unix.BPF_MAP_CREATE, unsafe.Pointer(attr), unsafe.Sizeof(*attr))
		if errno == unix.EAGAIN {
			continue
		}
		if errno != 0 {
			return -1, fmt.Errorf("create map %s: %w", name, errno)
		}
		return fd, nil
	}
	return -1, fmt.Errorf("create map %s: %w", name, unix.EAGAIN)
}

// fillMap writes value at key 0 and freezes the map if asked.
func fillMap(fd int, value []byte, freeze bool) error {
	if len(value) > 0 {
		var key uint32
		attr := mapElemAttr{mapFD: uint32(fd), key: uint64(uintptr(unsafe.Pointer(&key))), value: uint64(uintptr(unsafe.Pointer(&value[0])))}
		_, errno := bpfSyscall(unix.BPF_MAP_UPDATE_ELEM, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(value)
		runtime.KeepAlive(&key)
		if errno != 0 {
			return fmt.Errorf("write initial value: %w", errno)
		}
	}
	if freeze {
		attr := mapElemAttr{mapFD: uint32(fd)}
		if _, errno := bpfSyscall(bpfMapFreeze, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); errno != 0 {
			return fmt.Errorf("freeze: %w", errno)
		}
	}
	return nil
}

// poison turns the encoded kfunc calls at the given instruction indexes
// into helper calls (src_reg 0), keeping their poisoned ids.
func poison(code []byte, insns asm.Instructions, indexes []int) {
	if len(indexes) == 0 {
		return
	}
	raw := make(map[int]int, len(insns))
	it := insns.Iterate()
	for it.Next() {
		raw[it.Index] = int(it.Offset)
	}
	for _, i := range indexes {
		code[raw[i]*asm.InstructionSize+1] &= 0x0f // regs byte: src in the high nibble
	}
}

// loadProgram runs BPF_PROG_LOAD with a verifier log (level 1: the failing
// path only), growing the log buffer when it overflows and retrying when a
// signal interrupts verification (EAGAIN). The program fd is closed at once.
func loadProgram(pp preparedProgram, btfFD int) (bool, unix.Errno, string, error) {
	p := pp.prog
	var code bytes.Buffer
	if err := pp.insns.Marshal(&code, binary.LittleEndian); err != nil {
		return false, 0, "", fmt.Errorf("encode %s: %w", p.Name, err)
	}
	poison(code.Bytes(), pp.insns, pp.poisoned)
	license := append([]byte(p.License), 0)
	logSize := 1 << 20
	for attempt := 0; attempt < 12; attempt++ {
		logBuf := make([]byte, logSize)
		attr := progLoadAttr{
			progType: uint32(p.Type), insnCnt: uint32(code.Len() / asm.InstructionSize),
			insns:    uint64(uintptr(unsafe.Pointer(&code.Bytes()[0]))),
			license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
			logLevel: 1, logSize: uint32(logSize), logBuf: uint64(uintptr(unsafe.Pointer(&logBuf[0]))),
			kernVersion: p.KernelVersion, progFlags: p.Flags, progName: objName(p.Name),
			expectedAttachType: uint32(pp.attachType), progBTFFD: uint32(btfFD),
		}
		if pp.attach.typ != nil {
			attr.attachBTFID, attr.attachBTFObjFD = uint32(pp.attach.id), uint32(pp.attach.objFD())
		}
		if len(pp.fdArray) > 0 {
			attr.fdArray = uint64(uintptr(unsafe.Pointer(&pp.fdArray[0])))
		}
		if len(pp.funcInfos) > 0 {
			attr.funcInfoRecSize, attr.funcInfo, attr.funcInfoCnt = 8, uint64(uintptr(unsafe.Pointer(&pp.funcInfos[0]))), uint32(len(pp.funcInfos)/8)
		}
		if len(pp.lineInfos) > 0 {
			attr.lineInfoRecSize, attr.lineInfo, attr.lineInfoCnt = 16, uint64(uintptr(unsafe.Pointer(&pp.lineInfos[0]))), uint32(len(pp.lineInfos)/16)
		}
		fd, errno := bpfSyscall(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(code.Bytes())
		runtime.KeepAlive(license)
		runtime.KeepAlive(pp.funcInfos)
		runtime.KeepAlive(pp.lineInfos)
		runtime.KeepAlive(pp.fdArray)
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
