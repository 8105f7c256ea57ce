package lsp

import (
	"fmt"
	"unicode/utf8"

	"go.lsp.dev/protocol"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// mapper converts between byte offsets of a document and LSP positions in
// the negotiated encoding (UTF-16 code units by default, or UTF-8 bytes).
type mapper struct {
	text  []byte
	lines []int // byte offset of each line start
	utf8  bool
}

func newMapper(text []byte, utf8Enc bool) *mapper {
	m := &mapper{text: text, lines: []int{0}, utf8: utf8Enc}
	for i, c := range text {
		if c == '\n' {
			m.lines = append(m.lines, i+1)
		}
	}
	return m
}

// offset converts an LSP position to a byte offset, clamping to the line
// and the text (editors may send positions past the end while typing).
func (m *mapper) offset(p protocol.Position) int {
	line := int(p.Line)
	if line >= len(m.lines) {
		return len(m.text)
	}
	start := m.lines[line]
	end := len(m.text)
	if line+1 < len(m.lines) {
		end = m.lines[line+1] - 1
	}
	if m.utf8 {
		return min(start+int(p.Character), end)
	}
	units := 0
	off := start
	for off < end && units < int(p.Character) {
		r, size := utf8.DecodeRune(m.text[off:end])
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
		off += size
	}
	return off
}

// position converts a byte offset to an LSP position.
func (m *mapper) position(off int) protocol.Position {
	off = min(max(off, 0), len(m.text))
	line := 0
	lo, hi := 0, len(m.lines)-1
	for lo <= hi {
		mid := (lo + hi) / 2
		if m.lines[mid] <= off {
			line, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	start := m.lines[line]
	if m.utf8 {
		return protocol.Position{Line: uint32(line), Character: uint32(off - start)}
	}
	units := 0
	for i := start; i < off; {
		r, size := utf8.DecodeRune(m.text[i:off])
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
		i += size
	}
	return protocol.Position{Line: uint32(line), Character: uint32(units)}
}

// rangeOf converts a span of this document to an LSP range.
func (m *mapper) rangeOf(s cparse.Span) protocol.Range {
	return protocol.Range{Start: m.position(s.Start.Offset), End: m.position(s.End.Offset)}
}

// applyChange applies an incremental edit (start/end positions) to text.
func applyChange(text []byte, m *mapper, r protocol.Range, newText string) ([]byte, error) {
	start, end := m.offset(r.Start), m.offset(r.End)
	if start > end {
		return nil, fmt.Errorf("edit range %v-%v is inverted", r.Start, r.End)
	}
	out := make([]byte, 0, len(text)-(end-start)+len(newText))
	out = append(out, text[:start]...)
	out = append(out, newText...)
	return append(out, text[end:]...), nil
}

// lineRange is the range of a 1-based line from a 1-based byte column (or
// its first non-blank character when col is 0) to its end: where a
// diagnostic known only by line and column goes.
func (m *mapper) lineRange(line, col int) protocol.Range {
	if line < 1 || line > len(m.lines) {
		return protocol.Range{}
	}
	start := m.lines[line-1]
	end := len(m.text)
	if line < len(m.lines) {
		end = m.lines[line] - 1
	}
	from := start
	if col > 0 {
		from = min(start+col-1, end)
	} else {
		for from < end && (m.text[from] == ' ' || m.text[from] == '\t') {
			from++
		}
	}
	return protocol.Range{Start: m.position(from), End: m.position(end)}
}
