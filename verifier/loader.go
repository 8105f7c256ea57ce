package verifier

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// The loader loads what `bpftool prog loadall` (libbpf) loads, one program
// at a time. cilium/ebpf parses the ELF object, resolves CO-RE and encodes
// instructions and line info, but map creation and program load are raw
// bpf(2) calls, so that maps and programs share ONE BTF object: the kernel
// compares a node type from bpf_obj_new (program BTF) with a root's
// __contains type (map BTF) by BTF object identity, and cilium/ebpf (v0.22,
// the newest release) gives every map and every program its own BTF and so
// rejects correct graph programs.
//
// A program the loader cannot prepare (an extern the kernel lacks, an
// attach target not in its BTF) is an error with the reason, never a
// rejection: the kernel has not seen it.

// loadedProgram is the kernel's verdict on one program of an object.
type loadedProgram struct {
	name, section string
	accepted      bool
	errno         unix.Errno
	log           string
	insns         asm.Instructions // as loaded (subprograms appended)
	lineInfo      bool             // the object carries BTF line info for it
	err           error            // a failure before the kernel saw the program
	note          string           // how the load differed from the object
}

// fdMap satisfies asm.FDer for AssociateMap.
type fdMap int

func (m fdMap) FD() int { return int(m) }

// objectLoader holds what one object's programs share.
type objectLoader struct {
	spec       *ebpf.CollectionSpec
	info       *objectInfo
	renamed    sectionRenames
	kernel     *kernelBTF
	b          btf.Builder
	ksyms      map[string]btf.Type // .ksyms Datasec: *btf.Func or *btf.Var
	addrs      map[string]uint64   // kallsyms, read on first untyped ksym
	maps       map[string]int      // map name in the spec -> fd
	kconfigSec *btf.Datasec        // the .kconfig externs, nil if none
	kconfig    int                 // .kconfig map fd, -1 if none
	kcErr      error               // why there is no .kconfig map
}

// preparedProgram is a program ready for BPF_PROG_LOAD but for map fds.
type preparedProgram struct {
	prog                 *ebpf.ProgramSpec
	insns                asm.Instructions
	funcInfos, lineInfos []byte
	attach               kernelType // attach target (typ nil if none)
	attachType           ebpf.AttachType
	fdArray              []int32 // module BTF fds for kfunc calls; [0] unused
	poisoned             []int   // raw offsets of calls to missing __weak kfuncs
	err                  error
}

// loadObject loads every program of an ELF object separately into the
// kernel verifier and closes everything afterwards. An error means no
// program could be loaded (libbpf would not load the object either).
func loadObject(obj []byte, kernel *btf.Spec) ([]loadedProgram, error) {
	info, err := readObjectInfo(obj)
	if err != nil {
		return nil, err
	}
	obj, renamed, err := patchObject(obj, info)
	if err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
	if err != nil {
		return nil, fmt.Errorf("parse object: %w", err)
	}
	l := &objectLoader{spec: spec, info: info, renamed: renamed, kernel: &kernelBTF{vmlinux: kernel},
		ksyms: map[string]btf.Type{}, maps: map[string]int{}, kconfig: -1}
	defer l.close()
	if err := l.readStructOps(); err != nil {
		return nil, err
	}
	if err := l.addTypes(); err != nil {
		return nil, err
	}

	var names []string
	var out []loadedProgram
	for name, p := range spec.Programs {
		switch {
		case p.Type != ebpf.UnspecifiedProgram:
			names = append(names, name)
		case p.SectionName != ".text":
			out = append(out, loadedProgram{name: name, section: p.SectionName,
				err: fmt.Errorf("unsupported: section %q names no program type libbpf knows", p.SectionName)})
		}
	}
	sort.Strings(names)
	preps := make([]preparedProgram, len(names))
	for i, name := range names {
		preps[i] = l.prepare(spec.Programs[name])
	}

	raw, err := l.b.Marshal(nil, btf.KernelMarshalOptions())
	if err != nil {
		return nil, fmt.Errorf("marshal BTF: %w", err)
	}
	// As libbpf: BTF is optional. When the kernel refuses the object's
	// BTF, maps and programs load without it (and the verifier judges them
	// so: no spin locks, no global functions).
	btfFD, note := 0, ""
	if h, err := btf.NewHandleFromRawBTF(raw); err == nil {
		defer h.Close()
		btfFD = h.FD()
	} else {
		note = fmt.Sprintf("the kernel refused the object's BTF (%v): loaded without it, as libbpf does", firstLine(err.Error()))
		for i := range preps {
			preps[i].funcInfos, preps[i].lineInfos = nil, nil
		}
	}
	if err := l.createMaps(btfFD); err != nil {
		return nil, err
	}

	for _, pp := range preps {
		lp := loadedProgram{name: pp.prog.Name, section: pp.prog.SectionName, insns: pp.insns, lineInfo: len(pp.lineInfos) > 0, err: pp.err, note: note}
		if lp.err == nil {
			lp.err = l.associateMaps(pp.insns)
		}
		if lp.err == nil {
			lp.accepted, lp.errno, lp.log, lp.err = loadProgram(pp, btfFD)
		}
		out = append(out, lp)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func (l *objectLoader) close() {
	for _, fd := range l.maps {
		unix.Close(fd)
	}
	if l.kconfig >= 0 {
		unix.Close(l.kconfig)
	}
	l.kernel.close()
}

// addTypes adds every type of the object to the shared builder: the maps'
// value types, the programs' functions and lines, and the __contains
// targets that only a tag names.
func (l *objectLoader) addTypes() error {
	if l.spec.Types == nil {
		return nil
	}
	for t, err := range l.spec.Types.All() {
		if err != nil {
			return fmt.Errorf("object BTF: %w", err)
		}
		switch x := t.(type) {
		case *btf.Datasec:
			if x.Name == ".ksyms" {
				for _, v := range x.Vars {
					l.ksyms[v.Type.TypeName()] = v.Type
				}
				continue
			}
			if x.Name == ".kconfig" {
				l.kconfigSec = x
				continue // externs: the kernel refuses them in a Datasec
			}
		case *btf.Func:
			if x.Linkage == btf.ExternFunc {
				continue // the kernel refuses FUNCs with extern linkage
			}
			if l.info.hidden[x.Name] {
				// As libbpf: a __hidden global function is verified as
				// static, in its caller's context.
				x.Linkage = btf.StaticFunc
			}
		case *btf.Var:
			if x.Linkage == btf.ExternVar {
				continue // ksyms, typeless once patchObject is done
			}
		}
		if _, err := l.b.Add(t); err != nil {
			return fmt.Errorf("object BTF: %w", err)
		}
	}
	return nil
}

// readStructOps turns each variable of a plain ".struct_ops" section into
// a struct_ops map and tells each program which member it implements, as
// cilium/ebpf does for ".struct_ops.link".
func (l *objectLoader) readStructOps() error {
	if l.spec.Types == nil {
		return nil
	}
	var ds *btf.Datasec
	if err := l.spec.Types.TypeByName(structOpsStandIn, &ds); err != nil {
		return nil
	}
	for _, vsi := range ds.Vars {
		v, ok := vsi.Type.(*btf.Var)
		if !ok {
			continue
		}
		st, ok := btf.UnderlyingType(v.Type).(*btf.Struct)
		if !ok {
			return fmt.Errorf("struct_ops %s: not a struct", v.Name)
		}
		l.spec.Maps[v.Name] = &ebpf.MapSpec{Name: v.Name, Type: ebpf.StructOpsMap, KeySize: 4, ValueSize: st.Size, MaxEntries: 1, Value: st}
		for _, m := range st.Members {
			prog := l.info.structOps[uint64(vsi.Offset+m.Offset.Bytes())]
			if p := l.spec.Programs[prog]; p != nil && p.Type == ebpf.StructOps {
				p.AttachTo = st.Name + ":" + m.Name
			}
		}
	}
	return nil
}

// prepare applies CO-RE, resolves externs and finds the attach target.
func (l *objectLoader) prepare(p *ebpf.ProgramSpec) preparedProgram {
	pp := preparedProgram{prog: p, insns: append(asm.Instructions{}, p.Instructions...), attachType: p.AttachType}
	if err := l.coreRelocate(pp.insns); err != nil {
		pp.err = err
		return pp
	}
	if err := l.resolveKsyms(&pp); err != nil {
		pp.err = err
		return pp
	}
	if err := l.findAttachTarget(&pp); err != nil {
		pp.err = err
		return pp
	}
	fi, li, err := btf.MarshalExtInfos(pp.insns, &l.b)
	if err != nil {
		pp.err = fmt.Errorf("line info: %w", err)
		return pp
	}
	pp.funcInfos, pp.lineInfos = fi, li
	return pp
}

// coreRelocate applies CO-RE relocations; local type ids come from the
// shared builder.
func (l *objectLoader) coreRelocate(insns asm.Instructions) error {
	var relos []*btf.CORERelocation
	var idx []int
	for i := range insns {
		if r := btf.CORERelocationMetadata(&insns[i]); r != nil {
			relos = append(relos, r)
			idx = append(idx, i)
		}
	}
	if len(relos) == 0 {
		return nil
	}
	fixups, err := btf.CORERelocate(relos, []*btf.Spec{l.kernel.vmlinux}, binary.LittleEndian, l.b.Add)
	if err != nil {
		return fmt.Errorf("CO-RE: %w", err)
	}
	for i, f := range fixups {
		if zeroTypeRelocation(f.String()) {
			insns[idx[i]].Constant = 0
			continue
		}
		if err := f.Apply(&insns[idx[i]]); err != nil {
			return fmt.Errorf("CO-RE: %w", err)
		}
	}
	return nil
}

// zeroTypeRelocation tells, from a fixup's description (cilium/ebpf
// exports nothing else), a type id or size relocation to a type the kernel
// lacks: cilium/ebpf poisons it, libbpf resolves it to 0.
func zeroTypeRelocation(fixup string) bool {
	return fixup == "target_type_id=poison" || fixup == "type_size=poison"
}

// poisonKfunc is libbpf's helper id for a call to a missing __weak kfunc:
// the verifier refuses it only if the call is reachable.
const poisonKfunc = 2002000000

// resolveKsyms points __ksym externs at the kernel as libbpf does: kfunc
// calls at their BTF id (module kfuncs through fd_array), typed variables
// and kfunc addresses at BTF ids (BPF_PSEUDO_BTF_ID), untyped variables at
// their kallsyms address. A missing __weak extern becomes 0 (a poisoned
// call for a kfunc); a missing strong one fails the program.
func (l *objectLoader) resolveKsyms(pp *preparedProgram) error {
	for i := range pp.insns {
		ins := &pp.insns[i]
		name := ins.Reference()
		if name == "" {
			continue
		}
		decl, isKsym := l.ksyms[name]
		switch {
		case ins.IsKfuncCall():
			kt, err := l.kernel.find(name, isFunc)
			if err != nil {
				if errors.Is(err, errNotInKernel) && l.info.weak[name] {
					// Encoded as a kfunc call, turned into libbpf's
					// poisoned helper call after marshalling.
					ins.Constant, ins.Offset = poisonKfunc+int64(i), 0
					pp.poisoned = append(pp.poisoned, i)
					continue
				}
				return fmt.Errorf("unsupported: kfunc %s is not in the running kernel (%v)", name, err)
			}
			ins.Constant, ins.Offset = int64(kt.id), 0
			if kt.module != nil {
				if len(pp.fdArray) == 0 {
					pp.fdArray = []int32{0}
				}
				pp.fdArray = append(pp.fdArray, int32(kt.objFD()))
				ins.Offset = int16(len(pp.fdArray) - 1)
			}
		case isKsym && ins.OpCode.IsDWordLoad():
			if err := l.resolveKsymLoad(ins, name, decl); err != nil {
				return err
			}
		}
	}
	return nil
}

// pseudoBTFID is BPF_PSEUDO_BTF_ID: ld_imm64 of a kernel object by BTF id.
const pseudoBTFID = asm.R3

func (l *objectLoader) resolveKsymLoad(ins *asm.Instruction, name string, decl btf.Type) error {
	typed, match := l.info.typedKsym[name], isVar
	if _, ok := decl.(*btf.Func); ok {
		typed, match = true, isFunc
	}
	if typed {
		kt, err := l.kernel.find(name, match)
		if err == nil {
			ins.Src = pseudoBTFID
			ins.Constant = int64(uint64(uint32(kt.objFD()))<<32 | uint64(kt.id))
			return nil
		}
		if !errors.Is(err, errNotInKernel) || !l.info.weak[name] {
			return fmt.Errorf("unsupported: ksym %s is not in the running kernel (%v)", name, err)
		}
		ins.Constant = 0
		return nil
	}
	if l.addrs == nil {
		wanted := map[string]bool{}
		for n := range l.ksyms {
			wanted[n] = true
		}
		var err error
		if l.addrs, err = kallsyms(wanted); err != nil {
			return fmt.Errorf("ksym %s: %w", name, err)
		}
	}
	addr, ok := l.addrs[name]
	if !ok && !l.info.weak[name] {
		return fmt.Errorf("unsupported: ksym %s is not in /proc/kallsyms", name)
	}
	ins.Constant = int64(addr)
	return nil
}

// findAttachTarget looks up the kernel function, hook, tracepoint, iterator
// or struct_ops member a program attaches to, named by its section as
// libbpf names it.
func (l *objectLoader) findAttachTarget(pp *preparedProgram) error {
	p := pp.prog
	name, match := "", isFunc
	switch {
	case p.Type == ebpf.Extension:
		return errors.New("unsupported: freplace programs need the program they replace (bpftool prog loadall cannot load them either)")
	case p.Type == ebpf.StructOps:
		return l.findStructOpsTarget(pp)
	case p.Type == ebpf.Tracing && (p.AttachType == ebpf.AttachTraceFEntry || p.AttachType == ebpf.AttachTraceFExit || p.AttachType == ebpf.AttachModifyReturn):
		// "fentry/func" or "fentry/module:func"
		_, fn, hasModule := strings.Cut(p.AttachTo, ":")
		if !hasModule {
			fn = p.AttachTo
		}
		name = fn
	case p.Type == ebpf.Tracing && p.AttachType == ebpf.AttachTraceRawTp:
		name, match = "btf_trace_"+p.AttachTo, isTypedef
	case p.Type == ebpf.Tracing && p.AttachType == ebpf.AttachTraceIter:
		name = "bpf_iter_" + p.AttachTo
	case p.Type == ebpf.LSM:
		name = "bpf_lsm_" + p.AttachTo
	default:
		return nil
	}
	if p.AttachTo == "" {
		return fmt.Errorf("unsupported: section %q names no attach target", p.SectionName)
	}
	kt, err := l.kernel.find(name, match)
	if err != nil {
		return fmt.Errorf("attach target of section %q: %w", p.SectionName, err)
	}
	pp.attach = kt
	return nil
}

// findStructOpsTarget: a struct_ops program attaches to the kernel's ops
// struct, its expected attach type is the index of its member.
func (l *objectLoader) findStructOpsTarget(pp *preparedProgram) error {
	st, member, ok := strings.Cut(pp.prog.AttachTo, ":")
	if !ok {
		return fmt.Errorf("unsupported: struct_ops program %s is not referenced by any struct_ops map", pp.prog.Name)
	}
	kt, err := l.kernel.find(essentialName(st), isStruct)
	if err != nil {
		return fmt.Errorf("struct_ops %s: %w", st, err)
	}
	for i, m := range kt.typ.(*btf.Struct).Members {
		if m.Name == member {
			pp.attach, pp.attachType = kt, ebpf.AttachType(i)
			return nil
		}
	}
	return fmt.Errorf("struct_ops %s: the running kernel's struct has no member %s", st, member)
}

// firstLine is the first line of a multi-line error.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// essentialName drops a CO-RE flavour suffix ("tcp_congestion_ops___v2").
func essentialName(name string) string {
	if i := strings.LastIndex(name, "___"); i > 0 {
		return name[:i]
	}
	return name
}

// associateMaps gives each map reference its fd; a .kconfig load (which
// cilium/ebpf leaves without a reference) gets the .kconfig map and its
// variable's offset, found from the ELF relocation at the instruction.
func (l *objectLoader) associateMaps(insns asm.Instructions) error {
	funcSite, funcStart := elfSite{section: -1}, 0
	it := insns.Iterate()
	for it.Next() {
		ins := it.Ins
		if sym := ins.Symbol(); sym != "" {
			site, ok := l.info.funcs[sym]
			if !ok {
				site = elfSite{section: -1}
			}
			funcSite, funcStart = site, int(it.Offset)
		}
		if !ins.IsLoadFromMap() || ins.Map() != nil {
			continue
		}
		if ref := ins.Reference(); ref != "" {
			fd, ok := l.maps[ref]
			if !ok {
				return fmt.Errorf("unsupported: reference to map %s, which the loader did not create", ref)
			}
			if err := ins.AssociateMap(fdMap(fd)); err != nil {
				return err
			}
			continue
		}
		if ins.Src != asm.PseudoMapValue {
			continue
		}
		site := elfSite{funcSite.section, funcSite.offset + uint64(int(it.Offset)-funcStart)*asm.InstructionSize}
		extern, ok := l.info.externs[site]
		if !ok || funcSite.section < 0 {
			return fmt.Errorf("unsupported: instruction %d loads from a map the object does not name", it.Offset)
		}
		off, err := l.kconfigOffset(extern)
		if err != nil {
			return err
		}
		if err := ins.AssociateMap(fdMap(l.kconfig)); err != nil {
			return err
		}
		ins.Constant = int64(uint64(off) << 32)
	}
	return nil
}

func (l *objectLoader) kconfigOffset(extern string) (uint32, error) {
	if l.kconfig < 0 {
		if l.kcErr != nil {
			return 0, l.kcErr
		}
		return 0, fmt.Errorf("unsupported: %s is not in the object's .kconfig section", extern)
	}
	for _, vsi := range l.kconfigSec.Vars {
		if vsi.Type.TypeName() == extern {
			return vsi.Offset, nil
		}
	}
	return 0, fmt.Errorf("unsupported: %s is not in the object's .kconfig section", extern)
}
