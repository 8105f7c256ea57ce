package cparse

import (
	"bytes"
	"regexp"
)

// Workarounds for cc/v4 bugs that real headers trigger, in one place: the
// text of every header read from disk is rewritten here before cc/v4 sees
// it (the main file is not: its offsets must stay the user's). Each rewrite
// keeps the line structure, so positions in a header stay right except for
// columns on a rewritten line.
//   - GNU named variadic macros (`args...`, `##args`) are mis-expanded by
//     cc/v4 (bpf_printk, BPF_PROG with no argument): written with
//     __VA_ARGS__ instead.
//   - An empty entry in an attribute list, `__attribute__((aligned(8), ,
//     cleanup(f)))` (libbpf's bpf_for_each, bpf_for, bpf_repeat), is a
//     syntax error to cc/v4 and ignored by clang: its comma becomes a space.

// rewriteHeader applies every header rewrite.
func rewriteHeader(src []byte) []byte {
	return rewriteNamedVariadics(rewriteEmptyAttributes(src))
}

// rewriteEmptyAttributes blanks the comma of each empty entry of an
// __attribute__((...)) list, in place (lengths stay).
func rewriteEmptyAttributes(src []byte) []byte {
	const kw = "__attribute__"
	if !bytes.Contains(src, []byte(kw)) {
		return src
	}
	out := src
	copied := false
	for from := 0; ; {
		k := bytes.Index(src[from:], []byte(kw))
		if k < 0 {
			return out
		}
		at := from + k + len(kw)
		from = at
		depth, comma := 0, -1
	scan:
		for p := range pieces(src[at:], false) {
			if p.kind.trivia() {
				continue
			}
			switch i, c := at+p.start, src[at+p.start]; {
			case c == '(':
				depth++
			case c == ')':
				if depth == 2 && comma >= 0 {
					out, copied = blankByte(out, comma, copied)
				}
				if depth--; depth == 0 {
					break scan
				}
			case c == ',' && depth == 2:
				if comma >= 0 {
					out, copied = blankByte(out, comma, copied)
				}
				comma = i
				continue
			case depth == 0:
				break scan // not __attribute__((...))
			}
			comma = -1
		}
	}
}

// blankByte replaces out[i] with a space, copying out first if it is still
// the caller's slice.
func blankByte(out []byte, i int, copied bool) ([]byte, bool) {
	if !copied {
		out = append([]byte{}, out...)
	}
	out[i] = ' '
	return out, true
}

// namedVariadic finds a function-like #define whose last parameter is a GNU
// named variadic ("args..."), possibly continued over several lines.
var namedVariadic = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*define[ \t]+[A-Za-z_]\w*\(([^()]*?)\b([A-Za-z_]\w*)[ \t]*\.\.\.\)((?:[^\n]*\\\n)*[^\n]*)`)

// rewriteNamedVariadics turns `#define F(fmt, args...) g(fmt, ##args)` into
// `#define F(fmt, ...) g(fmt, ##__VA_ARGS__)`, which means the same to clang
// and which cc/v4 expands correctly. Line structure is kept, so positions in
// the header stay right except for columns inside the rewritten macros.
func rewriteNamedVariadics(src []byte) []byte {
	if !bytes.Contains(src, []byte("...)")) {
		return src
	}
	return namedVariadic.ReplaceAllFunc(src, func(def []byte) []byte {
		m := namedVariadic.FindSubmatchIndex(def)
		name := string(def[m[4]:m[5]])
		body := def[m[6]:m[7]]
		word := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`)
		var out []byte
		out = append(out, def[:m[4]]...)
		out = append(out, "...)"...)
		out = append(out, word.ReplaceAll(body, []byte("__VA_ARGS__"))...)
		return out
	})
}
