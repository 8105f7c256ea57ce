package analysis

import (
	"fmt"
	"sort"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// classes is the lock-class model of a file: every lock, every guarded
// object, and which lock guards which.
type classes struct {
	f           *cparse.File
	locks       []*Lock
	guarded     []*Guarded
	globalLock  map[string]*Lock    // global variable name -> lock
	fieldLock   map[string]*Lock    // "struct.field" -> lock
	globalGuard map[string]*Guarded // global variable name -> guarded
	fieldGuard  map[string]*Guarded // "struct.field" -> guarded
	// globalAt places each global of a data section at its offset in the
	// section (the map value the kernel checks offsets against).
	globalAt map[string]globalPlace
	sections map[string][]*cparse.Var
	findings []Finding
}

// globalPlace is a global's section and its offset there.
type globalPlace struct {
	section string
	off     int64
}

func sortedStructs(f *cparse.File) []string {
	names := make([]string, 0, len(f.Structs))
	for n := range f.Structs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// structName returns the tag of a struct type ("" for anything else).
func structName(t cc.Type) string {
	if t == nil {
		return ""
	}
	if st, ok := t.(*cc.StructType); ok {
		tag := st.Tag()
		return tag.SrcStr()
	}
	return ""
}

// pointeeStruct returns the struct tag a pointer type points to.
func pointeeStruct(t cc.Type) string {
	if pt, ok := t.(*cc.PointerType); ok {
		return structName(pt.Elem())
	}
	return ""
}

func isLockType(name string) bool { return name == "bpf_spin_lock" || name == "bpf_res_spin_lock" }
func isRootType(name string) bool { return name == "bpf_rb_root" || name == "bpf_list_head" }

// sectionOf is the section a global lives in: its SEC(), else .data or .bss.
func sectionOf(v *cparse.Var) string {
	if v.Section != "" {
		return v.Section
	}
	if v.Decl != nil && v.Decl.HasInitializer() {
		return ".data"
	}
	return ".bss"
}

// dataSection reports whether globals of section s form one allocation the
// kernel can hold a lock in (libbpf turns each into a one-element array map).
func dataSection(s string) bool {
	return s == ".data" || s == ".bss" || strings.HasPrefix(s, ".data.") || strings.HasPrefix(s, ".bss.")
}

func guardTag(tags []cparse.Tag) (cparse.Tag, bool) {
	for _, t := range tags {
		if name, ok := strings.CutPrefix(t.Value, "guarded_by:"); ok && name != "" {
			t.Value = name
			return t, true
		}
	}
	return cparse.Tag{}, false
}

func containsTag(tags []cparse.Tag) (cparse.Tag, bool) {
	for _, t := range tags {
		if strings.HasPrefix(t.Value, "contains:") {
			return t, true
		}
	}
	return cparse.Tag{}, false
}

func buildClasses(f *cparse.File) *classes {
	c := &classes{f: f, globalLock: map[string]*Lock{}, fieldLock: map[string]*Lock{},
		globalGuard: map[string]*Guarded{}, fieldGuard: map[string]*Guarded{}, globalAt: map[string]globalPlace{}}
	c.globals()
	for _, n := range sortedStructs(f) {
		c.structFields(f.Structs[n])
	}
	return c
}

// globals finds global locks, roots and guarded_by data, section by section.
func (c *classes) globals() {
	bySection := map[string][]*cparse.Var{}
	var order []string
	for _, v := range c.f.Vars {
		if v.Extern || v.Type == nil || v.Type.Kind() == cc.Function {
			continue
		}
		s := sectionOf(v)
		if !dataSection(s) {
			continue
		}
		if _, ok := bySection[s]; !ok {
			order = append(order, s)
		}
		bySection[s] = append(bySection[s], v)
	}
	c.sections = bySection
	// Every section's locks first: fixes for one section may point to
	// another's lock.
	emitted := emissionOrder(c.f)
	offsets := map[string]map[*cparse.Var]int64{}
	for _, s := range order {
		offsets[s] = sectionLayout(bySection[s], emitted)
		for _, v := range bySection[s] {
			c.globalAt[v.Name] = globalPlace{section: s, off: offsets[s][v]}
			if tn := structName(v.Type); isLockType(tn) {
				l := &Lock{Name: v.Name, Span: v.Span, Kind: tn, Allocation: "section " + s, section: s, offset: offsets[s][v]}
				c.locks = append(c.locks, l)
				c.globalLock[v.Name] = l
			}
		}
	}
	for _, s := range order {
		vars := bySection[s]
		locks := c.sectionLocks(s)
		if len(locks) > 1 {
			c.report(codeTwoLocks, locks[1].Span, fmt.Sprintf("section %s already has lock '%s'; the kernel allows one lock per allocation", s, locks[0].Name), noValidLock(s),
				related(locks[0].Span, fmt.Sprintf("'%s' declared here", locks[0].Name)))
		}
		for _, v := range vars {
			tn := structName(v.Type)
			tag, explicit := guardTag(v.Tags)
			if !isRootType(tn) && !explicit {
				continue
			}
			g := c.newGuarded(v.Name, v.Span, tn, explicit && tag.Pointee)
			c.globalGuard[v.Name] = g
			switch {
			case explicit:
				c.explicitGlobalGuard(g, v, tag, s)
			case len(locks) == 0:
				c.report(codeRootWithoutLock, v.Span, fmt.Sprintf("%s '%s' has no bpf_spin_lock in its allocation (section %s); the kernel rejects every use of it", tn, v.Name, s),
					c.fixMoveToSection(v.DeclSpan, c.onlyLockSection()))
			default:
				g.Lock, g.Reason = locks[0], "same section "+s
			}
			if g.root {
				g.Contains = c.checkContains(v.Name, v.Span, v.DeclSpan, tn, v.Tags, s)
				if g.Lock != nil {
					g.Kernel = fmt.Sprintf("bpf_spin_lock at off=%d must be held for %s", g.Lock.offset, tn)
				} else {
					g.Kernel = fmt.Sprintf("%s not found at offset=%d", tn, offsets[s][v])
				}
			}
		}
	}
}

func (c *classes) explicitGlobalGuard(g *Guarded, v *cparse.Var, tag cparse.Tag, section string) {
	g.Reason = "explicit __guarded_by(" + tag.Value + ")"
	l := c.globalLock[tag.Value]
	if l == nil {
		what := "does not exist"
		if c.f.Var(tag.Value) != nil {
			what = "is not a bpf_spin_lock"
		}
		c.report(codeGuardedByUnknown, tag.Span, fmt.Sprintf("__guarded_by(%s) on '%s': '%s' %s", tag.Value, v.Name, tag.Value, what),
			c.fixGuardedBy(tag, onlyLock(c.sectionLocks(section))))
		return
	}
	g.Lock = l
	if l.section != section {
		c.report(codeGuardedByOtherAlloc, tag.Span, fmt.Sprintf("'%s' is in section %s but its lock '%s' is in section %s: a lock only protects its own allocation", v.Name, section, l.Name, l.section),
			related(l.Span, fmt.Sprintf("'%s' declared here", l.Name)), c.fixMoveToSection(v.DeclSpan, l.section))
	}
}

// structFields finds locks, roots and guarded_by fields of one struct.
func (c *classes) structFields(s *cparse.Struct) {
	var locks []*Lock
	for _, fd := range s.Fields {
		if tn := structName(fd.Type); isLockType(tn) {
			l := &Lock{Name: s.Name + "." + fd.Name, Span: fd.Span, Kind: tn, Allocation: "struct " + s.Name,
				strct: s.Name, field: fd.Name, offset: fd.Offset}
			locks = append(locks, l)
			c.locks = append(c.locks, l)
			c.fieldLock[s.Name+"."+fd.Name] = l
		}
	}
	if len(locks) > 1 {
		c.report(codeTwoLocks, locks[1].Span, fmt.Sprintf("struct %s already has lock '%s'; the kernel allows one lock per allocation", s.Name, locks[0].field),
			related(locks[0].Span, fmt.Sprintf("'%s' declared here", locks[0].Name)))
	}
	for _, fd := range s.Fields {
		tn := structName(fd.Type)
		tag, explicit := guardTag(fd.Tags)
		if !isRootType(tn) && !explicit {
			continue
		}
		g := c.newGuarded(s.Name+"."+fd.Name, fd.Span, tn, explicit && tag.Pointee)
		g.strct, g.field = s.Name, fd.Name
		c.fieldGuard[g.Name] = g
		switch {
		case explicit:
			g.Reason = "explicit __guarded_by(" + tag.Value + ")"
			if l := c.fieldLock[s.Name+"."+tag.Value]; l != nil {
				g.Lock = l
			} else {
				what := "is not a field of struct " + s.Name
				for _, other := range s.Fields {
					if other.Name == tag.Value {
						what = "is not a bpf_spin_lock"
					}
				}
				if gl := c.globalLock[tag.Value]; gl != nil {
					c.report(codeGuardedByOtherAlloc, tag.Span, fmt.Sprintf("'%s' is a field of struct %s but its lock '%s' is a global: a lock only protects its own allocation", fd.Name, s.Name, tag.Value),
						related(gl.Span, fmt.Sprintf("'%s' declared here", gl.Name)))
				} else {
					c.report(codeGuardedByUnknown, tag.Span, fmt.Sprintf("__guarded_by(%s) on '%s': '%s' %s", tag.Value, fd.Name, tag.Value, what),
						c.fixGuardedBy(tag, onlyLock(locks)))
				}
			}
		case len(locks) == 0:
			c.report(codeRootWithoutLock, fd.Span, fmt.Sprintf("%s '%s' has no bpf_spin_lock in struct %s; the kernel rejects every use of it", tn, fd.Name, s.Name))
		default:
			g.Lock, g.Reason = locks[0], "same struct "+s.Name
		}
		if g.root {
			g.Contains = c.checkContains(fd.Name, fd.Span, fd.DeclSpan, tn, fd.Tags, "")
			if g.Lock != nil {
				g.Kernel = fmt.Sprintf("bpf_spin_lock at off=%d must be held for %s", g.Lock.offset, tn)
			}
		}
	}
}

// sectionLocks returns the global locks of a section.
func (c *classes) sectionLocks(section string) []*Lock {
	var out []*Lock
	for _, l := range c.locks {
		if l.section == section && l.field == "" {
			out = append(out, l)
		}
	}
	return out
}

// onlyLockSection returns the section of the file's only global lock, or "".
func (c *classes) onlyLockSection() string {
	var sections []string
	for _, l := range c.locks {
		if l.field == "" {
			sections = append(sections, l.section)
		}
	}
	if len(sections) != 1 {
		return ""
	}
	return sections[0]
}

// newGuarded records a root (typeName is bpf_rb_root or bpf_list_head) or
// a guarded_by datum.
func (c *classes) newGuarded(name string, span cparse.Span, typeName string, pointee bool) *Guarded {
	g := &Guarded{Name: name, Span: span, Kind: "data", root: isRootType(typeName), pointee: pointee}
	if g.root {
		g.Kind = typeName
	}
	c.guarded = append(c.guarded, g)
	return g
}

// checkContains validates a root's __contains(T, m) and returns "struct T.m".
func (c *classes) checkContains(name string, span, decl cparse.Span, rootType string, tags []cparse.Tag, section string) string {
	tag, ok := containsTag(tags)
	if !ok {
		c.report(codeRootWithoutContains, span, fmt.Sprintf("%s '%s' has no __contains(type, node): the kernel cannot know what it holds", rootType, name),
			c.fixAddContains(decl, rootType), noValidLock(section))
		return ""
	}
	parts := strings.SplitN(strings.TrimPrefix(tag.Value, "contains:"), ":", 2)
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		c.report(codeContainsInvalid, tag.Span, fmt.Sprintf("__contains on '%s' must name a type and a node field, got %q", name, tag.Value), noValidLock(section))
		return ""
	}
	typ, member := parts[0], parts[1]
	st := c.f.Structs[typ]
	if st == nil {
		c.report(codeContainsInvalid, tag.Span, fmt.Sprintf("__contains(%s, %s) on '%s': no struct %s is declared", typ, member, name, typ), noValidLock(section))
		return ""
	}
	var node *cparse.Field
	for _, fd := range st.Fields {
		if fd.Name == member {
			node = fd
		}
	}
	wantNode := "bpf_rb_node"
	if rootType == "bpf_list_head" {
		wantNode = "bpf_list_node"
	}
	switch {
	case node == nil:
		c.report(codeContainsInvalid, tag.Span, fmt.Sprintf("__contains(%s, %s) on '%s': struct %s has no field '%s'", typ, member, name, typ, member),
			related(st.Span, "struct "+typ+" declared here"), c.fixContains(tag, typ, rootType), noValidLock(section))
		return ""
	case structName(node.Type) != wantNode:
		c.report(codeContainsInvalid, tag.Span, fmt.Sprintf("__contains(%s, %s) on '%s': a %s holds %s nodes, but '%s' is %s", typ, member, name, rootType, wantNode, member, node.TypeName),
			related(node.Span, "'"+member+"' declared here"), c.fixContains(tag, typ, rootType), noValidLock(section))
		return ""
	}
	if section != "" && !c.typeEmitted(typ) {
		c.report(codeContainsNotEmitted, tag.Span, fmt.Sprintf("struct %s is never allocated with bpf_obj_new, so clang leaves it out of BTF and the kernel drops the section's lock (map '%s' has no valid bpf_spin_lock)", typ, section),
			related(st.Span, "struct "+typ+" declared here"), noValidLock(section))
	}
	return "struct " + typ + "." + member
}

// typeEmitted reports whether struct typ reaches the object's BTF: it is
// allocated with bpf_obj_new, or names a global's, a field's or a
// function parameter's type (pointer or not).
func (c *classes) typeEmitted(typ string) bool {
	refers := func(t cc.Type) bool { return structName(t) == typ || pointeeStruct(t) == typ }
	for _, v := range c.f.Vars {
		if refers(v.Type) {
			return true
		}
	}
	for _, s := range c.f.Structs {
		for _, fd := range s.Fields {
			if refers(fd.Type) {
				return true
			}
		}
	}
	for _, fn := range c.f.Funcs {
		if ft, ok := fn.Def.Declarator.Type().(*cc.FunctionType); ok {
			for _, p := range ft.Parameters() {
				if refers(p.Type()) {
					return true
				}
			}
		}
		for _, call := range fn.Calls {
			if call.Name == "__builtin_btf_type_id" && len(call.Args) > 0 && call.Args[0].Expr != nil && structName(call.Args[0].Expr.Type()) == typ {
				return true
			}
		}
	}
	return false
}

func (c *classes) report(code string, span cparse.Span, msg string, extra ...any) {
	fd := Finding{Code: code, Severity: ruleByCode[code].Severity, Span: span, Message: msg, Kernel: ruleByCode[code].Kernel}
	for _, e := range extra {
		switch x := e.(type) {
		case Related:
			fd.Related = append(fd.Related, x)
		case []Fix:
			fd.Fixes = append(fd.Fixes, x...)
		case string:
			if x != "" {
				fd.Kernel = x
			}
		}
	}
	c.findings = append(c.findings, fd)
}

// noValidLock is the kernel's complaint at the first lock call when it
// dropped a section's record; for a map value (no section) the rule's
// generic wording stays.
func noValidLock(section string) string {
	if section == "" {
		return ""
	}
	return fmt.Sprintf("map '%s' has no valid bpf_spin_lock", section)
}

func related(span cparse.Span, msg string) Related { return Related{Span: span, Message: msg} }
