package cparse

import (
	"bytes"
	"iter"
)

// The scans of raw C text that run without cc/v4 (top-level regions,
// nesting limits, the preamble region, directives, the names a text uses)
// all read it through pieces, so they agree on what is a token. Pieces
// follow translation phases 1 to 3 as clang and cc/v4 do: a line splice
// (backslash-newline, CRLF too) is invisible anywhere, a comment is white
// space, a string or character literal hides comment openers, and a '#'
// first on its line (after white space and comments only) starts a
// directive that runs to the next newline outside splices, comments and
// literals.

// pieceKind is what a piece of C text is.
type pieceKind uint8

const (
	punct   pieceKind = iota // one byte of any other token
	word                     // an identifier, keyword or number (a run of isIdentByte)
	literal                  // a string or character literal; an unterminated one ends at its line's end
	space                    // spaces, tabs, '\r', '\f', '\v' and line splices
	newline
	comment       // /* to */ (an unterminated one runs to the end) or // to the line's end
	directiveLine // from '#' to its line's end (the newline not included)
)

// trivia reports whether a piece of this kind is no token to the parser.
func (k pieceKind) trivia() bool { return k >= space }

// piece is text[start:end], of one kind.
type piece struct {
	kind       pieceKind
	start, end int
}

// pieces yields the pieces of text in order. With directives false, '#'
// is punctuation wherever it is: for the text of one directive, or to find
// names anywhere in a text.
func pieces(text []byte, directives bool) iter.Seq[piece] {
	return func(yield func(piece) bool) {
		lineStart := true
		for i := 0; i < len(text); {
			kind, end := pieceAt(text, i, directives && lineStart)
			if !yield(piece{kind, i, end}) {
				return
			}
			switch kind {
			case newline:
				lineStart = true
			case space, comment:
			default:
				lineStart = false
			}
			i = end
		}
	}
}

// pieceAt returns the kind and end of the piece at text[i]; a '#' there
// starts a directive when lineStart.
func pieceAt(text []byte, i int, lineStart bool) (pieceKind, int) {
	switch c := text[i]; {
	case c == '\n':
		return newline, i + 1
	case isBlankByte(c) || spliceLen(text, i) > 0:
		for i < len(text) {
			if isBlankByte(text[i]) {
				i++
			} else if n := spliceLen(text, i); n > 0 {
				i += n
			} else {
				break
			}
		}
		return space, i
	case c == '"' || c == '\'':
		return literal, literalEnd(text, i)
	case c == '#' && lineStart:
		return directiveLine, directiveEnd(text, i)
	case isIdentByte(c):
		return word, wordEnd(text, i)
	case c == '/':
		if end := commentEnd(text, i); end > i {
			return comment, end
		}
	}
	return punct, i + 1
}

func isBlankByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'
}

// spliceLen returns the length of the line splice at text[i], or 0.
func spliceLen(text []byte, i int) int {
	switch {
	case i+1 < len(text) && text[i] == '\\' && text[i+1] == '\n':
		return 2
	case i+2 < len(text) && text[i] == '\\' && text[i+1] == '\r' && text[i+2] == '\n':
		return 3
	}
	return 0
}

// skipSplices returns the first offset from i not starting a line splice.
func skipSplices(text []byte, i int) int {
	for n := spliceLen(text, i); n > 0; n = spliceLen(text, i) {
		i += n
	}
	return i
}

// wordEnd returns the end of the word at text[i]: splices between its
// bytes are part of it, one after it is not.
func wordEnd(text []byte, i int) int {
	for i++; i < len(text); i++ {
		if isIdentByte(text[i]) {
			continue
		}
		if spliceLen(text, i) == 0 {
			break
		}
		j := skipSplices(text, i)
		if j == len(text) || !isIdentByte(text[j]) {
			break
		}
		i = j
	}
	return i
}

// literalEnd returns the end of the string or character literal at
// text[i]: past its closing quote, or, unterminated, its line's end. A
// newline escaped by a backslash (a splice between them) ends it too, as
// in clang.
func literalEnd(text []byte, i int) int {
	q := text[i]
	for i++; i < len(text); {
		switch text[i] {
		case q:
			return i + 1
		case '\n':
			return i
		case '\\':
			if n := spliceLen(text, i); n > 0 {
				i += n
				continue
			}
			// An escape: it takes the next character, unless that ends the line.
			i = skipSplices(text, i+1)
			if i < len(text) && text[i] != '\n' {
				i++
			}
		default:
			i++
		}
	}
	return len(text)
}

// commentEnd returns the end of the comment starting at text[i] ('/'), or
// i when none starts there.
func commentEnd(text []byte, i int) int {
	j := skipSplices(text, i+1)
	if j == len(text) {
		return i
	}
	switch text[j] {
	case '*':
		for j++; j < len(text); j++ {
			if text[j] == '*' {
				if k := skipSplices(text, j+1); k < len(text) && text[k] == '/' {
					return k + 1
				}
			}
		}
		return len(text)
	case '/':
		for j++; j < len(text) && text[j] != '\n'; {
			j += max(spliceLen(text, j), 1) // a spliced newline continues the comment
		}
		return j
	}
	return i
}

// directiveEnd returns the end of the directive starting at text[i]
// ('#'): the offset of the newline ending it, or the text's end.
func directiveEnd(text []byte, i int) int {
	for i++; i < len(text); {
		kind, end := pieceAt(text, i, false)
		if kind == newline {
			return i
		}
		i = end
	}
	return len(text)
}

// firstWord returns the first word of text after blanks and comments, as
// the preprocessor reads it (splices removed), and the text after it; ""
// when another piece comes first.
func firstWord(text []byte) (string, []byte) {
	for p := range pieces(text, false) {
		if p.kind == space || p.kind == comment {
			continue
		}
		if p.kind == word {
			return string(withoutSplices(text[p.start:p.end])), text[p.end:]
		}
		break
	}
	return "", nil
}

// withoutSplices returns text with its line splices removed (text itself
// when it has none).
func withoutSplices(text []byte) []byte {
	if bytes.IndexByte(text, '\\') < 0 {
		return text
	}
	for _, splice := range []string{"\\\r\n", "\\\n"} {
		if bytes.Contains(text, []byte(splice)) {
			text = bytes.ReplaceAll(text, []byte(splice), nil)
		}
	}
	return text
}

// withoutComments returns text as the preprocessor reads its lines: line
// splices removed and each comment replaced by a space.
func withoutComments(text []byte) []byte {
	text = withoutSplices(text)
	if bytes.IndexByte(text, '/') < 0 {
		return text
	}
	out := make([]byte, 0, len(text))
	for p := range pieces(text, false) {
		if p.kind == comment {
			out = append(out, ' ')
		} else {
			out = append(out, text[p.start:p.end]...)
		}
	}
	return out
}
