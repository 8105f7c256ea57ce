package lsp

import (
	"bytes"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// carryForward returns the findings of an earlier analysis that are still
// true of text as far as positions go: those that lie entirely before the
// first changed byte, and those entirely after the last changed line
// (shifted by the edit). A finding touching the edited text is dropped, so
// no finding is ever shown at a place it was not computed for.
func carryForward(old *snapshot, text []byte) []analysis.Finding {
	prefix, suffix := commonEnds(old.text, text)
	if prefix == len(old.text) && prefix == len(text) {
		prefix++ // the same text: every span is still in place
	}
	// Spans after the edit keep their column only from the first whole
	// line of the common suffix on.
	suffixStart := len(old.text) - suffix
	if i := bytes.IndexByte(old.text[suffixStart:], '\n'); i >= 0 {
		suffixStart += i + 1
	} else {
		suffixStart = len(old.text) + 1
	}
	shift := len(text) - len(old.text)
	lines := bytes.Count(text, []byte{'\n'}) - bytes.Count(old.text, []byte{'\n'})
	move := func(sp cparse.Span) (cparse.Span, bool) {
		if sp.File != old.path && sp.File != "" {
			return sp, true // in a header: not this document's text
		}
		switch {
		case sp.End.Offset < prefix:
			return sp, true
		case sp.Start.Offset >= suffixStart:
			sp.Start.Offset += shift
			sp.End.Offset += shift
			sp.Start.Line += lines
			sp.End.Line += lines
			return sp, true
		}
		return sp, false
	}
	var out []analysis.Finding
next:
	for _, fd := range old.findings {
		var ok bool
		if fd.Span, ok = move(fd.Span); !ok {
			continue
		}
		related := make([]analysis.Related, len(fd.Related))
		for i, r := range fd.Related {
			if r.Span, ok = move(r.Span); !ok {
				continue next
			}
			related[i] = r
		}
		fd.Related = related
		fd.Fixes = nil // code actions are offered only for complete analyses
		out = append(out, fd)
	}
	return out
}

// commonEnds returns the lengths of the common prefix and of the common
// suffix of a and b (not overlapping the prefix).
func commonEnds(a, b []byte) (prefix, suffix int) {
	n := min(len(a), len(b))
	for prefix < n && a[prefix] == b[prefix] {
		prefix++
	}
	for suffix < n-prefix && a[len(a)-1-suffix] == b[len(b)-1-suffix] {
		suffix++
	}
	return prefix, suffix
}
