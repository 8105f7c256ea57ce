package verifier

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// objectInfo is what the loader reads from the ELF object itself because
// cilium/ebpf's spec does not expose it: which externs are __weak, where
// each function starts, which extern each instruction relocates against
// (cilium/ebpf drops the name of a .kconfig extern) and the relocations of
// a plain ".struct_ops" section (which cilium/ebpf refuses to parse).
type objectInfo struct {
	weak      map[string]bool
	typedKsym map[string]bool // .ksyms variable declared with a type
	hidden    map[string]bool // global function with hidden visibility
	funcs     map[string]elfSite
	externs   map[elfSite]string
	structOps map[uint64]string // .struct_ops offset -> program
	programs  []ObjectProgram   // by name
}

// ObjectProgram is a program of an object and the section that gives its type.
type ObjectProgram struct{ Name, Section string }

// ObjectPrograms lists the programs of an ELF object the way libbpf finds
// them: functions in executable sections other than .text, by name.
func ObjectPrograms(obj []byte) ([]ObjectProgram, error) {
	info, err := readObjectInfo(obj)
	if err != nil {
		return nil, err
	}
	return info.programs, nil
}

// elfSite is a byte offset in a section (by index).
type elfSite struct {
	section int
	offset  uint64
}

// structOpsSection and its same-length stand-in: cilium/ebpf fails on a
// ".struct_ops" section, so the loader renames it and reads it itself.
// Only the dot changes: a C identifier sharing the name's tail in a string
// table cannot include it.
const (
	structOpsSection = ".struct_ops"
	structOpsStandIn = "_struct_ops"
)

func readObjectInfo(obj []byte) (*objectInfo, error) {
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return nil, fmt.Errorf("read ELF: %w", err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("read ELF symbols: %w", err)
	}
	info := &objectInfo{weak: map[string]bool{}, typedKsym: map[string]bool{}, hidden: map[string]bool{}, funcs: map[string]elfSite{}, externs: map[elfSite]string{}, structOps: map[uint64]string{}}
	for _, s := range syms {
		switch {
		case s.Section == elf.SHN_UNDEF:
			info.weak[s.Name] = elf.ST_BIND(s.Info) == elf.STB_WEAK
		case elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section < elf.SHN_LORESERVE:
			info.funcs[s.Name] = elfSite{int(s.Section), s.Value}
			vis := elf.ST_VISIBILITY(s.Other)
			info.hidden[s.Name] = elf.ST_BIND(s.Info) != elf.STB_LOCAL && (vis == elf.STV_HIDDEN || vis == elf.STV_INTERNAL)
			if int(s.Section) < len(f.Sections) {
				if sec := f.Sections[s.Section]; sec.Flags&elf.SHF_EXECINSTR != 0 && sec.Name != ".text" {
					info.programs = append(info.programs, ObjectProgram{s.Name, sec.Name})
				}
			}
		}
	}
	sort.Slice(info.programs, func(i, j int) bool { return info.programs[i].Name < info.programs[j].Name })
	for _, rs := range f.Sections {
		if rs.Type != elf.SHT_REL || int(rs.Info) >= len(f.Sections) {
			continue
		}
		target := int(rs.Info)
		data, err := rs.Data()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", rs.Name, err)
		}
		for off := 0; off+16 <= len(data); off += 16 {
			at := binary.LittleEndian.Uint64(data[off:])
			symIdx := int(binary.LittleEndian.Uint64(data[off+8:]) >> 32)
			if symIdx == 0 || symIdx > len(syms) {
				continue
			}
			sym := syms[symIdx-1] // Symbols() omits the null symbol
			switch {
			case f.Sections[target].Name == structOpsSection:
				info.structOps[at] = sym.Name
			case sym.Section == elf.SHN_UNDEF:
				info.externs[elfSite{target, at}] = sym.Name
			}
		}
	}
	return info, nil
}

// sectionRenames maps a renamed section back to its real name.
type sectionRenames map[string]string

// patchObject rewrites, in a copy of the ELF image, what cilium/ebpf cannot
// parse. Section names become names of the same length: ".bss.NAME" becomes
// ".dataNAME" (cilium/ebpf only treats ".bss", ".data*" and ".rodata*" as
// data sections and fails their relocations otherwise) and ".struct_ops"
// becomes structOpsStandIn. The name is replaced in every string table
// (section names, symbols and the BTF Datasec), so sizes and offsets still
// match up; NOBITS sections stay zero-filled. Weak symbols become global:
// cilium/ebpf refuses weak maps and .kconfig externs, and the loader reads
// weakness from the original (readObjectInfo). Typed .ksyms variables
// become untyped (cilium/ebpf refuses them); info records which were typed.
func patchObject(obj []byte, info *objectInfo) ([]byte, sectionRenames, error) {
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return nil, nil, fmt.Errorf("read ELF: %w", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.ByteOrder != binary.LittleEndian {
		return nil, nil, fmt.Errorf("not a little-endian 64-bit BPF object")
	}
	out := append([]byte{}, obj...)
	renamed := sectionRenames{}
	for _, s := range f.Sections {
		if s.Type == elf.SHT_SYMTAB {
			makeWeakGlobal(out, s)
		}
		if s.Name == ".BTF" && s.Type == elf.SHT_PROGBITS && s.Offset+s.Size <= uint64(len(out)) {
			if err := untypeKsyms(out[s.Offset:s.Offset+s.Size], info.typedKsym); err != nil {
				return nil, nil, fmt.Errorf(".BTF: %w", err)
			}
		}
		newName := ""
		if rest, ok := strings.CutPrefix(s.Name, ".bss."); ok && rest != "" {
			newName = ".data" + rest
		} else if s.Name == structOpsSection {
			newName = structOpsStandIn
		}
		if newName == "" {
			continue
		}
		out = bytes.ReplaceAll(out, []byte(s.Name+"\x00"), []byte(newName+"\x00"))
		renamed[newName] = s.Name
	}
	return out, renamed, nil
}

// makeWeakGlobal rebinds every weak symbol of a symbol table (Elf64_Sym:
// 24 bytes, st_info at byte 4) as global.
func makeWeakGlobal(obj []byte, symtab *elf.Section) {
	end := min(symtab.Offset+symtab.Size, uint64(len(obj)))
	for off := symtab.Offset; off+24 <= end; off += 24 {
		info := obj[off+4]
		if elf.ST_BIND(info) == elf.STB_WEAK {
			obj[off+4] = elf.ST_INFO(elf.STB_GLOBAL, elf.ST_TYPE(info))
		}
	}
}

// realName returns a map's name as the program declared it.
func (r sectionRenames) realName(name string) string {
	if real, ok := r[name]; ok {
		return real
	}
	return name
}

// BTF kinds (uapi linux/btf.h) whose records the walk must size or follow.
const (
	btfKindInt = iota + 1
	btfKindPtr
	btfKindArray
	btfKindStruct
	btfKindUnion
	btfKindEnum
	btfKindFwd
	btfKindTypedef
	btfKindVolatile
	btfKindConst
	btfKindRestrict
	btfKindFunc
	btfKindFuncProto
	btfKindVar
	btfKindDatasec
	btfKindFloat
	btfKindDeclTag
	btfKindTypeTag
	btfKindEnum64
)

// untypeKsyms walks raw BTF, points every variable of the .ksyms Datasec at
// void and records in typed the ones whose type was not (qualified) void:
// libbpf resolves those by BTF id, the others through kallsyms.
func untypeKsyms(raw []byte, typed map[string]bool) error {
	le := binary.LittleEndian
	if len(raw) < 24 || le.Uint16(raw) != 0xeb9f {
		return fmt.Errorf("bad header")
	}
	hdrLen := uint64(le.Uint32(raw[4:]))
	typeOff, typeLen := hdrLen+uint64(le.Uint32(raw[8:])), uint64(le.Uint32(raw[12:]))
	strOff, strLen := hdrLen+uint64(le.Uint32(raw[16:])), uint64(le.Uint32(raw[20:]))
	if typeOff+typeLen > uint64(len(raw)) || strOff+strLen > uint64(len(raw)) {
		return fmt.Errorf("sections out of bounds")
	}
	name := func(off uint32) string {
		if uint64(off) >= strLen {
			return ""
		}
		s := raw[strOff+uint64(off) : strOff+strLen]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return string(s)
	}
	recs := []uint64{0} // byte offset of each type's record; id 0 is void
	for off := typeOff; off+12 <= typeOff+typeLen; {
		recs = append(recs, off)
		info := le.Uint32(raw[off+4:])
		vlen := uint64(info & 0xffff)
		off += 12
		switch (info >> 24) & 0x1f {
		case btfKindInt, btfKindVar, btfKindDeclTag:
			off += 4
		case btfKindArray:
			off += 12
		case btfKindStruct, btfKindUnion, btfKindDatasec, btfKindEnum64:
			off += 12 * vlen
		case btfKindEnum, btfKindFuncProto:
			off += 8 * vlen
		}
	}
	kind := func(id uint32) uint32 { return (le.Uint32(raw[recs[id]+4:]) >> 24) & 0x1f }
	for id := 1; id < len(recs); id++ {
		r := recs[id]
		if kind(uint32(id)) != btfKindDatasec || name(le.Uint32(raw[r:])) != ".ksyms" {
			continue
		}
		vlen := uint64(le.Uint32(raw[r+4:]) & 0xffff)
		for i := range vlen {
			if r+12+12*(i+1) > typeOff+typeLen {
				return fmt.Errorf(".ksyms Datasec out of bounds")
			}
			v := le.Uint32(raw[r+12+12*i:])
			if int(v) >= len(recs) || kind(v) != btfKindVar {
				continue
			}
			t := le.Uint32(raw[recs[v]+8:])
			for depth := 0; t != 0 && int(t) < len(recs) && depth < 32; depth++ {
				k := kind(t)
				if k != btfKindConst && k != btfKindVolatile && k != btfKindRestrict && k != btfKindTypedef && k != btfKindTypeTag {
					typed[name(le.Uint32(raw[recs[v]:]))] = true
					break
				}
				t = le.Uint32(raw[recs[t]+8:])
			}
			le.PutUint32(raw[recs[v]+8:], 0)
		}
	}
	return nil
}
