package analysis

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/kernels"
)

// Programs written in BPF assembly (__naked functions with one asm
// statement) are followed instruction by instruction, as the verifier
// walks them, for the lock rules only: which map value a register points
// to (one id per lookup, as the verifier's reg->id), NULL checks, the held
// lock, calls, loads and stores on the lock, exits. An instruction or
// operand outside that model stops the analysis, silently: the BL003 info
// says the program was not checked.

// asmInsn is one instruction of the template, with its place in the source.
type asmInsn struct {
	text  string
	span  cparse.Span
	label string // a label defined on this instruction
}

// asmReg is what a register holds.
type asmReg struct {
	kind  asmKind
	v     int64  // asmConst: the value; asmStack, asmValue: the offset
	mapNm string // asmMap, asmValue, asmValueOrNull: the map
	id    int    // asmValue, asmValueOrNull: the lookup
}

type asmKind int

const (
	asmUnknown asmKind = iota // a scalar nothing is known about
	asmConst
	asmCtx
	asmStack
	asmMap
	asmValueOrNull
	asmValue
)

// asmState is the state of one path.
type asmState struct {
	regs   [11]asmReg
	held   *asmReg // the map value whose lock is held
	heldAt cparse.Span
	pc     int
	nextID int
}

var (
	asmMov     = regexp.MustCompile(`^r(\d+) = (r\d+|-?\d+|0x[0-9a-fA-F]+)$`)
	asmLdImm64 = regexp.MustCompile(`^r(\d+) = (\w+) ll$`)
	asmAlu     = regexp.MustCompile(`^r(\d+) ([+-])= (-?\d+)$`)
	asmStore   = regexp.MustCompile(`^\*\(u(8|16|32|64) ?\*\)\(r(\d+) ([+-]) ?(\d+)\) = (r\d+|-?\d+)$`)
	asmLoad    = regexp.MustCompile(`^r(\d+) = \*\(u(8|16|32|64) ?\*\)\(r(\d+) ([+-]) ?(\d+)\)$`)
	asmCall    = regexp.MustCompile(`^call (\w+)$`)
	asmIf      = regexp.MustCompile(`^if r(\d+) (==|!=) (r\d+|-?\d+) goto (\S+)$`)
	asmGoto    = regexp.MustCompile(`^goto (\S+)$`)
	asmLabel   = regexp.MustCompile(`^(\w+):\s*`)
)

// asmBudget bounds the instructions followed over all paths of a program.
const asmBudget = 20000

// checkAsm follows the inline assembly of fn; it reports whether it could.
func (a *analyzer) checkAsm(fn *cparse.Func) bool {
	asm := onlyAsm(fn)
	if asm == nil {
		return false
	}
	operands, ok := asmOperands(asm.Asm)
	if !ok {
		return false
	}
	insns, ok := a.asmTemplate(asm, operands)
	if !ok {
		return false
	}
	labels := map[string]int{}
	for i, in := range insns {
		if in.label != "" {
			labels[in.label] = i
		}
	}
	x := &asmRun{a: a, fn: fn, insns: insns, labels: labels, m: mode{fn: fn, entry: true}}
	st := &asmState{}
	st.regs[1] = asmReg{kind: asmCtx}
	st.regs[10] = asmReg{kind: asmStack}
	if !x.walk(st) {
		return false
	}
	a.findings = append(a.findings, x.findings...)
	return true
}

// onlyAsm returns the asm statement of a function whose body is one.
func onlyAsm(fn *cparse.Func) *cc.AsmStatement {
	var asm *cc.AsmStatement
	for l := fn.Def.CompoundStatement.BlockItemList; l != nil; l = l.BlockItemList {
		it := l.BlockItem
		if it == nil || it.Case == cc.BlockItemDecl {
			continue
		}
		if it.Case != cc.BlockItemStmt || it.Statement == nil || it.Statement.Case != cc.StatementAsm || asm != nil {
			return nil
		}
		asm = it.Statement.AsmStatement
	}
	return asm
}

// asmOperands reads the named input operands: [name]"i"(helper),
// [name]"i"(&map), [name]"i"(constant).
func asmOperands(asm *cc.Asm) (map[string]string, bool) {
	out := map[string]string{}
	for l := asm.AsmArgList; l != nil; l = l.AsmArgList {
		for e := l.AsmExpressionList; e != nil; e = e.AsmExpressionList {
			if e.AsmIndex == nil {
				continue // outputs and clobbers are not named
			}
			name := strings.TrimSpace(cparseText(e.AsmIndex.ExpressionList))
			// The parser reads `"i"(expr)` as a call of the constraint.
			pe, ok := unparen(e.AssignmentExpression).(*cc.PostfixExpression)
			if !ok || pe.Case != cc.PostfixExpressionCall || pe.ArgumentExpressionList == nil || pe.ArgumentExpressionList.ArgumentExpressionList != nil {
				return nil, false
			}
			operand := pe.ArgumentExpressionList.AssignmentExpression
			if v, ok := constValue(operand); ok {
				out[name] = strconv.FormatInt(v, 10)
				continue
			}
			x := unparen(operand)
			if u, ok := x.(*cc.UnaryExpression); ok && u.Case == cc.UnaryExpressionAddrof {
				x = unparen(u.CastExpression)
			}
			p, ok := x.(*cc.PrimaryExpression)
			if !ok || p.Case != cc.PrimaryExpressionIdent {
				return nil, false
			}
			out[name] = p.Token.SrcStr()
		}
	}
	return out, true
}

// cparseText is the source text of an identifier expression.
func cparseText(e cc.ExpressionNode) string {
	if p, ok := unparen(e).(*cc.PrimaryExpression); ok && p.Case == cc.PrimaryExpressionIdent {
		return p.Token.SrcStr()
	}
	return ""
}

// asmTemplate splits the asm's string literal(s) into instructions, each
// with its source span, operands substituted.
func (a *analyzer) asmTemplate(asm *cc.AsmStatement, operands map[string]string) ([]asmInsn, bool) {
	span := a.span(asm)
	if span.File != a.f.Path || span.End.Offset > len(a.f.Src) {
		return nil, false
	}
	src := a.f.Src
	// The template's characters with their file offsets.
	var chars []byte
	var offs []int
	i := span.Start.Offset
	for i < span.End.Offset && src[i] != '"' {
		i++
	}
	for i < span.End.Offset && src[i] == '"' {
		i++
		for i < span.End.Offset && src[i] != '"' {
			switch {
			case src[i] == '\\' && i+1 < len(src) && src[i+1] == '\n':
				chars, offs = append(chars, '\n'), append(offs, i)
				i += 2
			case src[i] == '\\' && i+1 < len(src):
				c := src[i+1]
				switch c {
				case 'n':
					c = '\n'
				case 't':
					c = '\t'
				}
				chars, offs = append(chars, c), append(offs, i)
				i += 2
			default:
				chars, offs = append(chars, src[i]), append(offs, i)
				i++
			}
		}
		i++ // the closing quote
		i = skipBlanks(src, i, span.End.Offset)
	}
	var out []asmInsn
	start := 0
	flush := func(end int) bool {
		for start < end && isSpace(chars[start]) {
			start++
		}
		e := end
		for e > start && isSpace(chars[e-1]) {
			e--
		}
		text, ok := substitute(string(chars[start:e]), operands)
		if !ok {
			return false
		}
		label := ""
		if m := asmLabel.FindStringSubmatch(text); m != nil {
			label, text = m[1], text[len(m[0]):]
			start += min(len(m[0]), e-start) // the instruction starts after the label
		}
		if text == "" && label == "" {
			start = end + 1
			return true
		}
		in := asmInsn{text: strings.Join(strings.Fields(text), " "), label: label}
		if start < e {
			in.span = cparse.Span{File: span.File, Start: posAt(src, span.Start, offs[start]), End: posAt(src, span.Start, offs[e-1]+1)}
		}
		out = append(out, in)
		start = end + 1
		return true
	}
	for j, c := range chars {
		if c == ';' || c == '\n' {
			if !flush(j) {
				return nil, false
			}
		}
	}
	if !flush(len(chars)) {
		return nil, false
	}
	// A label alone on its line labels the next instruction.
	var insns []asmInsn
	pending := ""
	for _, in := range out {
		if in.text == "" {
			pending = in.label
			continue
		}
		if in.label == "" {
			in.label = pending
		}
		pending = ""
		insns = append(insns, in)
	}
	return insns, len(insns) > 0
}

// posAt is the position of byte off of src, counted from from.
func posAt(src []byte, from cparse.Pos, off int) cparse.Pos {
	p := cparse.Pos{Line: from.Line, Col: from.Col, Offset: off}
	seg := src[from.Offset:off]
	if nl := strings.Count(string(seg), "\n"); nl > 0 {
		p.Line += nl
		p.Col = off - strings.LastIndexByte(string(src[:off]), '\n')
	} else {
		p.Col += off - from.Offset
	}
	return p
}

// skipBlanks skips white space and comments between string literals.
func skipBlanks(src []byte, i, end int) int {
	for i < end {
		switch {
		case isSpace(src[i]):
			i++
		case i+1 < end && src[i] == '/' && src[i+1] == '/':
			for i < end && src[i] != '\n' {
				i++
			}
		case i+1 < end && src[i] == '/' && src[i+1] == '*':
			j := strings.Index(string(src[i+2:end]), "*/")
			if j < 0 {
				return end
			}
			i += j + 4
		default:
			return i
		}
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

var asmOperand = regexp.MustCompile(`%\[(\w+)\]|%=`)

// substitute replaces %[name] by its operand and %= by nothing (it only
// makes labels unique).
func substitute(s string, operands map[string]string) (string, bool) {
	ok := true
	out := asmOperand.ReplaceAllStringFunc(s, func(m string) string {
		if m == "%=" {
			return ""
		}
		v, found := operands[m[2:len(m)-1]]
		ok = ok && found
		return v
	})
	return out, ok && !strings.Contains(out, "%")
}

// asmRun follows one program's paths.
type asmRun struct {
	a        *analyzer
	fn       *cparse.Func
	insns    []asmInsn
	labels   map[string]int
	m        mode
	steps    int
	findings []Finding
}

// walk follows every path from st; false when an instruction is outside
// the model or the budget runs out.
func (x *asmRun) walk(st *asmState) bool {
	for {
		x.steps++
		if x.steps > asmBudget || st.pc < 0 || st.pc >= len(x.insns) {
			return false
		}
		in := x.insns[st.pc]
		t := in.text
		switch {
		case t == "exit":
			if st.held != nil {
				x.report(codeLockHeldAtExit, in.span, fmt.Sprintf("the lock of a %s value is still held at exit", st.held.mapNm), "", related(st.heldAt, "taken here"))
			}
			return true
		case asmMov.MatchString(t):
			m := asmMov.FindStringSubmatch(t)
			d, ok := reg(m[1])
			if !ok {
				return false
			}
			if s, isReg := reg(strings.TrimPrefix(m[2], "r")); strings.HasPrefix(m[2], "r") && isReg {
				st.regs[d] = st.regs[s]
			} else {
				v, err := strconv.ParseInt(m[2], 0, 64)
				if err != nil {
					return false
				}
				st.regs[d] = asmReg{kind: asmConst, v: v}
			}
		case asmLdImm64.MatchString(t):
			m := asmLdImm64.FindStringSubmatch(t)
			d, ok := reg(m[1])
			if !ok || x.mapValue(m[2]) == nil {
				return false
			}
			st.regs[d] = asmReg{kind: asmMap, mapNm: m[2]}
		case asmAlu.MatchString(t):
			m := asmAlu.FindStringSubmatch(t)
			d, ok := reg(m[1])
			k, _ := strconv.ParseInt(m[3], 10, 64)
			if m[2] == "-" {
				k = -k
			}
			if !ok {
				return false
			}
			switch r := &st.regs[d]; r.kind {
			case asmConst, asmStack, asmValue:
				r.v += k
			default:
				*r = asmReg{}
			}
		case asmStore.MatchString(t):
			m := asmStore.FindStringSubmatch(t)
			if !x.access(st, in, m[2], m[3], m[4], m[1]) {
				return false
			}
		case asmLoad.MatchString(t):
			m := asmLoad.FindStringSubmatch(t)
			d, ok := reg(m[1])
			if !ok || !x.access(st, in, m[3], m[4], m[5], m[2]) {
				return false
			}
			st.regs[d] = asmReg{}
		case asmCall.MatchString(t):
			stop, ok := x.call(st, in, asmCall.FindStringSubmatch(t)[1])
			if !ok {
				return false
			}
			if stop {
				return true // the kernel stops at its first error
			}
		case asmGoto.MatchString(t):
			to, ok := x.labels[asmGoto.FindStringSubmatch(t)[1]]
			if !ok {
				return false
			}
			st.pc = to
			continue
		case asmIf.MatchString(t):
			m := asmIf.FindStringSubmatch(t)
			to, ok := x.labels[m[4]]
			r, okr := reg(m[1])
			if !ok || !okr {
				return false
			}
			taken, fall, ok := x.branch(st, r, m[2] == "==", m[3])
			if !ok {
				return false
			}
			if taken != nil {
				taken.pc = to
				if !x.walk(taken) {
					return false
				}
			}
			if fall == nil {
				return true
			}
			st = fall
		default:
			return false
		}
		st.pc++
	}
}

func reg(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "r"))
	return n, err == nil && n >= 0 && n <= 10
}

// branch splits st on `if rN ==/!= operand`: the state where the jump is
// taken and the one where it falls through (nil when impossible).
func (x *asmRun) branch(st *asmState, r int, eq bool, operand string) (taken, fall *asmState, ok bool) {
	k, err := strconv.ParseInt(operand, 0, 64)
	if err != nil {
		return nil, nil, false // register operands are not modelled
	}
	isK, notK := st.clone(), st.clone() // r == k, r != k
	switch reg := st.regs[r]; reg.kind {
	case asmConst:
		if reg.v == k {
			notK = nil
		} else {
			isK = nil
		}
	case asmValue, asmStack, asmCtx, asmMap:
		if k != 0 {
			return nil, nil, false
		}
		isK = nil // a valid pointer is not NULL
	case asmValueOrNull:
		if k != 0 {
			return nil, nil, false
		}
		// As mark_ptr_or_null_regs: every register with the lookup's id.
		for i := range isK.regs {
			if isK.regs[i].kind == asmValueOrNull && isK.regs[i].id == reg.id {
				isK.regs[i] = asmReg{kind: asmConst}
				notK.regs[i] = asmReg{kind: asmValue, mapNm: reg.mapNm, id: reg.id}
			}
		}
	}
	if eq {
		return isK, notK, true
	}
	return notK, isK, true
}

func (st *asmState) clone() *asmState {
	c := *st
	return &c
}

// mapValue returns the value type of a map declared in the file.
func (x *asmRun) mapValue(name string) cc.Type {
	v := x.a.f.Var(name)
	if v == nil || v.Type == nil || v.Type.Kind() != cc.Struct {
		return nil
	}
	st := v.Type.(*cc.StructType)
	for i := range st.NumFields() {
		if f := st.FieldByIndex(i); f != nil && f.Name() == "value" {
			if pt, ok := f.Type().(*cc.PointerType); ok {
				return pt.Elem()
			}
		}
	}
	return nil
}

// lockOf returns the lock field of a map's value.
func (x *asmRun) lockOf(mapNm string) *Lock {
	t := x.mapValue(mapNm)
	for _, lk := range x.a.cl.locks {
		if lk.strct != "" && lk.strct == structName(t) {
			return lk
		}
	}
	return nil
}

// access checks a load or store through register r at off: on a map
// value, it must not touch the lock.
func (x *asmRun) access(st *asmState, in asmInsn, r, sign, off, size string) bool {
	n, ok := reg(r)
	o, _ := strconv.ParseInt(off, 10, 64)
	bits, _ := strconv.ParseInt(size, 10, 64)
	if sign == "-" {
		o = -o
	}
	if !ok {
		return false
	}
	switch p := st.regs[n]; p.kind {
	case asmStack, asmCtx:
		return true
	case asmValue:
		l := x.lockOf(p.mapNm)
		if l == nil {
			return true
		}
		at := p.v + o
		if at < l.offset+4 && at+bits/8 > l.offset {
			x.report(codeSpecialFieldAccess, in.span, fmt.Sprintf("'%s' reads or writes %d bytes at offset %d of a %s value, which overlaps its bpf_spin_lock '%s'", in.text, bits/8, at, p.mapNm, l.field),
				"bpf_spin_lock cannot be accessed directly by load/store")
		}
		return true
	}
	return false // NULL-able or unknown pointers are not modelled
}

// call applies a helper call.
func (x *asmRun) call(st *asmState, in asmInsn, name string) (stop, ok bool) {
	if kernelCallKind(name) != kernels.Helper {
		return false, false // a subprogram or a kfunc: not modelled
	}
	r1 := st.regs[1]
	switch {
	case name == "bpf_spin_lock" && st.held != nil:
		x.report(codeDoubleLock, in.span, fmt.Sprintf("bpf_spin_lock while the lock of a %s value is held: a program may hold one bpf_spin_lock at a time", st.held.mapNm), kernelCallUnderLock, related(st.heldAt, "taken here"))
		return true, true
	case name == "bpf_spin_lock":
		l := x.lockOf(r1.mapNm)
		if r1.kind != asmValue || l == nil || r1.v != l.offset {
			return false, false
		}
		held := r1
		st.held, st.heldAt = &held, in.span
	case name == "bpf_spin_unlock" && st.held == nil:
		x.report(codeUnlockWithoutLock, in.span, "bpf_spin_unlock, but no lock is held on this path", "bpf_spin_unlock without taking a lock")
		return true, true
	case name == "bpf_spin_unlock":
		if r1.kind != asmValue {
			return false, false
		}
		if r1.mapNm != st.held.mapNm || r1.id != st.held.id {
			x.report(codeUnlockDifferent, in.span, fmt.Sprintf("bpf_spin_unlock of the lock of another %s value than the one held: every lookup is its own allocation", r1.mapNm), "bpf_spin_unlock of different lock",
				related(st.heldAt, "taken here"))
			return true, true
		}
		st.held = nil
	case st.held != nil:
		x.report(codeCallUnderLock, in.span, fmt.Sprintf("%s is called while the lock of a %s value is held", name, st.held.mapNm), kernelCallUnderLock, related(st.heldAt, "taken here"))
		return true, true
	case name == "bpf_map_lookup_elem":
		if r1.kind != asmMap {
			return false, false
		}
		st.nextID++
		st.regs[0] = asmReg{kind: asmValueOrNull, mapNm: r1.mapNm, id: st.nextID}
		clobber(st)
		return false, true
	default:
		st.regs[0] = asmReg{}
	}
	clobber(st)
	return false, true
}

// clobber forgets the argument registers after a call.
func clobber(st *asmState) {
	for i := 1; i <= 5; i++ {
		st.regs[i] = asmReg{}
	}
}

// report collects a finding (kept only if the whole program could be
// followed); kernel "" keeps the rule's own message.
func (x *asmRun) report(code string, span cparse.Span, msg, kernel string, extra ...any) {
	saved := x.a.findings
	x.a.findings = nil
	if kernel != "" {
		extra = append(extra, kernel)
	}
	x.a.report(code, span, msg, x.m, extra...)
	x.findings = append(x.findings, x.a.findings...)
	x.a.findings = saved
}
