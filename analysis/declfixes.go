package analysis

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Suggested fixes for declaration findings. Each is offered only when the
// repair is unambiguous (one lock in the allocation, one fitting node field,
// one lock section) and the text has the expected shape.

func (c *classes) text(s cparse.Span) string {
	if s.File != c.f.Path || s.Start.Offset < 0 || s.End.Offset > len(c.f.Src) || s.Start.Offset > s.End.Offset {
		return ""
	}
	return string(c.f.Src[s.Start.Offset:s.End.Offset])
}

func (c *classes) replace(msg string, s cparse.Span, newText string) []Fix {
	return []Fix{{Message: msg, Preferred: true, Edits: []Edit{{Span: s, NewText: newText}}}}
}

// fixGuardedBy rewrites __guarded_by(x) to name lock.
func (c *classes) fixGuardedBy(tag cparse.Tag, lock string) []Fix {
	if lock == "" || !strings.HasPrefix(c.text(tag.Span), "__guarded_by(") {
		return nil
	}
	return c.replace("Guard with '"+lock+"'", tag.Span, "__guarded_by("+lock+")")
}

// onlyLock returns the name of the one lock among locks, or "".
func onlyLock(locks []*Lock) string {
	if len(locks) != 1 {
		return ""
	}
	if locks[0].field != "" {
		return locks[0].field
	}
	return locks[0].Name
}

// sectionRE finds the section a declaration names: private(X),
// private_bss(X) or SEC(".data.X").
var sectionRE = regexp.MustCompile(`\b(private|private_bss)\((\w+)\)|SEC\("\.(?:data|bss)\.(\w+)"\)`)

// fixMoveToSection moves a global into section to (".data.A" / ".bss.A").
func (c *classes) fixMoveToSection(decl cparse.Span, to string) []Fix {
	text := c.text(decl)
	m := sectionRE.FindStringSubmatchIndex(text)
	name := to[strings.LastIndex(to, ".")+1:]
	if m == nil || to == "" || (!strings.HasPrefix(to, ".data.") && !strings.HasPrefix(to, ".bss.")) {
		return nil
	}
	var repl string
	if m[2] >= 0 {
		macro := "private"
		if strings.HasPrefix(to, ".bss.") {
			macro = "private_bss"
		}
		repl = macro + "(" + name + ")"
	} else {
		repl = `SEC("` + to + `")`
	}
	at := cparse.Span{File: decl.File, Start: cparse.PosAt(c.f.Src, decl.Start.Offset+m[0]), End: cparse.PosAt(c.f.Src, decl.Start.Offset+m[1])}
	return c.replace("Move it to section "+to+", beside its lock", at, repl)
}

// nodeFields lists "T, m" for every struct field of the given node type.
func (c *classes) nodeFields(nodeType string) []string {
	var out []string
	for _, name := range sortedStructs(c.f) {
		for _, fd := range c.f.Structs[name].Fields {
			if structName(fd.Type) == nodeType {
				out = append(out, name+", "+fd.Name)
			}
		}
	}
	return out
}

func nodeTypeFor(rootType string) string {
	if rootType == "bpf_list_head" {
		return "bpf_list_node"
	}
	return "bpf_rb_node"
}

// fixAddContains adds __contains(T, m) before the declaration's ';' when
// exactly one struct has a node of the right kind.
func (c *classes) fixAddContains(decl cparse.Span, rootType string) []Fix {
	cands := c.nodeFields(nodeTypeFor(rootType))
	text := c.text(decl)
	if len(cands) != 1 || !strings.HasSuffix(text, ";") {
		return nil
	}
	at := cparse.PosAt(c.f.Src, decl.End.Offset-1)
	return c.replace(fmt.Sprintf("Add __contains(%s)", cands[0]), cparse.Span{File: decl.File, Start: at, End: at}, " __contains("+cands[0]+")")
}

// fixContains rewrites a __contains that names the wrong (or a missing)
// field of typ to its one field of the right node kind.
func (c *classes) fixContains(tag cparse.Tag, typ, rootType string) []Fix {
	if !strings.HasPrefix(c.text(tag.Span), "__contains(") {
		return nil
	}
	var fit []string
	for _, cand := range c.nodeFields(nodeTypeFor(rootType)) {
		if strings.HasPrefix(cand, typ+", ") {
			fit = append(fit, cand)
		}
	}
	if len(fit) != 1 {
		return nil
	}
	return c.replace("Use __contains("+fit[0]+")", tag.Span, "__contains("+fit[0]+")")
}
