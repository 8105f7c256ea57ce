package analysis

import (
	"bytes"
	"sort"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// fixWrap wraps the statement at stmt in bpf_spin_lock/unlock of lockText.
func (a *analyzer) fixWrap(stmt cparse.Span, lockText string) []Fix {
	src := a.f.Src
	if stmt.File != a.f.Path || lockText == "" || stmt.End.Offset > len(src) || stmt.Start.Offset < 0 {
		return nil
	}
	start := lineStart(src, stmt.Start.Offset)
	indent := string(src[start:firstNonSpace(src, start)])
	end := stmt.End.Offset
	if i := bytes.IndexByte(src[end:], ';'); i >= 0 && !bytes.Contains(src[end:end+i], []byte{'\n'}) {
		end += i + 1
	}
	lockAt := firstNonSpace(src, start)
	return []Fix{{
		Message:   "Wrap in bpf_spin_lock/unlock of '" + lockText + "'",
		Preferred: true,
		Edits: []Edit{
			{Span: a.point(lockAt), NewText: "bpf_spin_lock(&" + lockText + ");\n" + indent},
			{Span: a.point(end), NewText: "\n" + indent + "bpf_spin_unlock(&" + lockText + ");"},
		},
	}}
}

// fixUnlockBefore inserts the unlock of h before the exit at (a return
// statement, or the function's closing brace).
func (a *analyzer) fixUnlockBefore(at cparse.Span, h heldLock, fallOff bool) []Fix {
	src := a.f.Src
	if at.File != a.f.Path || h.expr == "" || h.res || at.Start.Offset > len(src) {
		return nil
	}
	fix := Fix{Message: "Unlock '" + h.expr + "' before leaving", Preferred: true}
	if fallOff {
		ls := lineStart(src, at.Start.Offset)
		indent := string(src[ls:firstNonSpace(src, ls)]) + "\t"
		fix.Edits = []Edit{{Span: a.point(ls), NewText: indent + "bpf_spin_unlock(&" + h.expr + ");\n"}}
		return []Fix{fix}
	}
	ls := lineStart(src, at.Start.Offset)
	indent := string(src[ls:firstNonSpace(src, ls)])
	if firstNonSpace(src, ls) != at.Start.Offset {
		// `if (x) return 0;` on one line: put the unlock and the return in a block.
		end := at.End.Offset
		fix.Edits = []Edit{
			{Span: a.point(at.Start.Offset), NewText: "{\n" + indent + "\tbpf_spin_unlock(&" + h.expr + ");\n" + indent + "\t"},
			{Span: a.point(end), NewText: "\n" + indent + "}"},
		}
		return []Fix{fix}
	}
	if prev := prevNonSpace(src, ls); prev >= 0 && src[prev] == ')' {
		// The return is the whole body of an if/else without braces.
		outer := indent[:max(len(indent)-1, 0)]
		fix.Edits = []Edit{
			{Span: a.point(prev + 1), NewText: " {"},
			{Span: a.point(at.Start.Offset), NewText: "bpf_spin_unlock(&" + h.expr + ");\n" + indent},
			{Span: a.point(at.End.Offset), NewText: "\n" + outer + "}"},
		}
		return []Fix{fix}
	}
	fix.Edits = []Edit{{Span: a.point(at.Start.Offset), NewText: "bpf_spin_unlock(&" + h.expr + ");\n" + indent}}
	return []Fix{fix}
}

// point is an empty span at offset off of the main file.
func (a *analyzer) point(off int) cparse.Span {
	p := cparse.PosAt(a.f.Src, off)
	return cparse.Span{File: a.f.Path, Start: p, End: p}
}

func lineStart(src []byte, off int) int {
	return bytes.LastIndexByte(src[:off], '\n') + 1
}

func firstNonSpace(src []byte, off int) int {
	for off < len(src) && (src[off] == ' ' || src[off] == '\t') {
		off++
	}
	return off
}

// prevNonSpace returns the index of the last non-blank byte before off
// (skipping newlines), or -1.
func prevNonSpace(src []byte, off int) int {
	for i := off - 1; i >= 0; i-- {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return i
	}
	return -1
}

func sortLocks(ls []*Lock) {
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
}
