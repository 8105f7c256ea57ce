package cparse

import (
	"bytes"
	"regexp"
)

// conditional matches the start of an #if or #elif line.
var conditional = regexp.MustCompile(`^#\s*(if|elif)\b`)

// region is a top-level piece of the main file: a declaration (up to its
// ';') or a function definition, whose body is [bodyStart, bodyEnd).
type region struct {
	start, end         int
	bodyStart, bodyEnd int // inside the braces; -1 when not a function definition
}

// topLevelRegions splits src into top-level declarations and function
// definitions by scanning tokens lightly: comments, string and character
// literals and preprocessor lines are skipped; nesting is tracked with
// (), [] and {}. A '{' right after ')' (or an attribute list) at depth 0
// opens a function body.
func topLevelRegions(src []byte) []region {
	var out []region
	start := -1
	depth := 0
	body := -1
	lastSig := byte(0) // last significant byte at depth 0
	lineStart := true
	for i := 0; i < len(src); i++ {
		c := src[i]
		if end, kind := trivia(src, i, lineStart); kind != notTrivia {
			lineStart = lineStart || kind == newline
			i = end
			continue
		}
		lineStart = false
		if start < 0 {
			start = i
		}
		switch c {
		case '"', '\'':
			i = skipLiteral(src, i)
		case '(', '[':
			depth++
		case ')', ']':
			if depth > 0 {
				depth--
			}
		case '{':
			if depth == 0 && lastSig == ')' && body < 0 {
				body = i + 1
			}
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
			if depth == 0 && body >= 0 {
				out = append(out, region{start: start, end: i + 1, bodyStart: body, bodyEnd: i})
				start, body = -1, -1
			}
		case ';':
			if depth == 0 {
				out = append(out, region{start: start, end: i + 1, bodyStart: -1, bodyEnd: -1})
				start = -1
			}
		}
		if depth == 0 && c != ' ' {
			lastSig = c
		}
	}
	if start >= 0 {
		r := region{start: start, end: len(src), bodyStart: -1, bodyEnd: -1}
		if body >= 0 {
			r.bodyStart, r.bodyEnd = body, len(src)
		}
		out = append(out, r)
	}
	return out
}

// triviaKind classifies what trivia found.
type triviaKind int

const (
	notTrivia triviaKind = iota
	space
	newline
	comment
	directiveLine
)

// trivia reports whether src[i] starts something that is not a token:
// white space, a newline, a comment, or (when only white space precedes
// it on its line) a preprocessor directive; end is the index of its last
// byte. An unterminated comment runs to the end of src.
func trivia(src []byte, i int, lineStart bool) (end int, kind triviaKind) {
	switch c := src[i]; {
	case c == '\n':
		return i, newline
	case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
		return i, space
	case c == '#' && lineStart:
		return skipDirective(src, i), directiveLine
	case c == '/' && i+1 < len(src) && src[i+1] == '/':
		for i < len(src) && src[i] != '\n' {
			i++
		}
		return i - 1, comment
	case c == '/' && i+1 < len(src) && src[i+1] == '*':
		if j := indexFrom(src, i+2, "*/"); j >= 0 {
			return j + 1, comment
		}
		return len(src), comment
	}
	return i, notTrivia
}

// skipDirective returns the index of the newline ending the preprocessor
// directive at i (backslash continuations included).
func skipDirective(src []byte, i int) int {
	for i < len(src) {
		if src[i] == '\n' && (i == 0 || src[i-1] != '\\') {
			return i - 1
		}
		i++
	}
	return len(src)
}

// skipLiteral returns the index of the closing quote of the literal at i
// (or the end of the line for an unterminated one).
func skipLiteral(src []byte, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			return j
		case '\n':
			return j - 1
		}
	}
	return len(src)
}

func indexFrom(src []byte, from int, s string) int {
	for i := from; i+len(s) <= len(src); i++ {
		if string(src[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

// blankErrors blanks, in text, the part of the main file that holds each
// error: the body of a function definition (so the function stays declared)
// or a whole declaration. Spaces replace everything but newlines so every
// position stays valid. It reports whether anything changed.
func blankErrors(text []byte, errs []Error, mainPath string) bool {
	regions := topLevelRegions(text)
	changed := false
	for _, e := range errs {
		if e.Span.File != mainPath {
			continue
		}
		off := e.Span.Start.Offset
		for _, r := range regions {
			if off < r.start || off > r.end {
				continue
			}
			lo, hi := r.start, r.end
			if r.bodyStart >= 0 && off >= r.bodyStart && off <= r.bodyEnd && !isBlank(text[r.bodyStart:r.bodyEnd]) {
				lo, hi = r.bodyStart, r.bodyEnd
			}
			if blank(text[lo:hi]) {
				changed = true
			}
			break
		}
	}
	return changed
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\n' {
			return false
		}
	}
	return true
}

func blank(b []byte) bool {
	changed := false
	for i, c := range b {
		if c != ' ' && c != '\n' {
			b[i] = ' '
			changed = true
		}
	}
	return changed
}

// blankRegionAt blanks the preprocessor line or top-level region of text
// holding off; it reports whether there was one.
func blankRegionAt(text []byte, off int) bool {
	start := bytes.LastIndexByte(text[:off], '\n') + 1
	if line := bytes.TrimLeft(text[start:off+1], " \t"); len(line) > 0 && line[0] == '#' {
		end := min(skipDirective(text, start)+1, len(text))
		// A conditional stays one, false, so its #endif still matches.
		var keep []byte
		if m := conditional.FindSubmatch(line); m != nil && end-start >= len(m[0])+2 {
			keep = append(append([]byte("#"), m[1]...), " 0"...)
		}
		blank(text[start:end])
		copy(text[start:], keep)
		return true
	}
	for _, r := range topLevelRegions(text) {
		if off >= r.start && off < r.end {
			blank(text[r.start:r.end])
			return true
		}
	}
	return false
}
