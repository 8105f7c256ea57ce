package cparse

import "regexp"

// conditional matches the start of an #if or #elif line.
var conditional = regexp.MustCompile(`^#\s*(if|elif)\b`)

// region is a top-level piece of the main file: a declaration (up to its
// ';') or a function definition, whose body is [bodyStart, bodyEnd).
type region struct {
	start, end         int
	bodyStart, bodyEnd int // inside the braces; -1 when not a function definition
}

// topLevelRegions splits src into top-level declarations and function
// definitions by scanning its pieces: nesting is tracked with (), [] and
// {}. A '{' right after ')' (or an attribute list) at depth 0 opens a
// function body.
func topLevelRegions(src []byte) []region {
	var out []region
	start, depth, body := -1, 0, -1
	lastSig := byte(0) // the first byte of the last token at depth 0
	for p := range pieces(src, true) {
		if p.kind.trivia() {
			continue
		}
		i, c := p.start, src[p.start]
		if start < 0 {
			start = i
		}
		switch c {
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
		if depth == 0 {
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

// blankRegionAt blanks the directive or top-level region of text holding
// off; it reports whether there was one.
func blankRegionAt(text []byte, off int) bool {
	for p := range pieces(text, true) {
		if p.end <= off {
			continue
		}
		if p.kind != directiveLine {
			break
		}
		d := text[p.start:p.end]
		// A conditional stays one, false, so its #endif still matches.
		var keep []byte
		if m := conditional.FindSubmatch(d); m != nil {
			keep = append(append([]byte("#"), m[1]...), " 0"...)
		}
		blank(d)
		if len(keep) <= len(d) {
			copy(d, keep)
		}
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
