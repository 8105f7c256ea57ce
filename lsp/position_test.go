package lsp

import (
	"testing"

	"go.lsp.dev/protocol"
)

func TestMapperUTF16AndUTF8(t *testing.T) {
	text := []byte("a\n// é 😀 x\nlast")
	m16 := newMapper(text, false)
	m8 := newMapper(text, true)
	// 'x' on line 1: bytes "// é 😀 " = 3+2+1+4+1 = 11; UTF-16 units 3+1+1+2+1 = 8.
	off := 2 + 11
	if text[off] != 'x' {
		t.Fatalf("test setup: %q", text[off])
	}
	if p := m16.position(off); p.Line != 1 || p.Character != 8 {
		t.Errorf("utf-16 position %+v", p)
	}
	if p := m8.position(off); p.Line != 1 || p.Character != 11 {
		t.Errorf("utf-8 position %+v", p)
	}
	if got := m16.offset(protocol.Position{Line: 1, Character: 8}); got != off {
		t.Errorf("utf-16 offset %d", got)
	}
	// Positions past the line or the text clamp instead of failing.
	if got := m16.offset(protocol.Position{Line: 1, Character: 99}); text[got] != '\n' {
		t.Errorf("clamp to end of line: %d", got)
	}
	if got := m16.offset(protocol.Position{Line: 9, Character: 0}); got != len(text) {
		t.Errorf("clamp to end of text: %d", got)
	}
	out, err := applyChange(text, m16, protocol.Range{Start: protocol.Position{Line: 1, Character: 5}, End: protocol.Position{Line: 1, Character: 7}}, "☃")
	if err != nil || string(out) != "a\n// é ☃ x\nlast" {
		t.Errorf("edit over a surrogate pair: %q %v", out, err)
	}
}
