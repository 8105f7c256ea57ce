package cparse

import "fmt"

// cc/v4 parses and checks expressions and statements recursively, one or
// more Go frames per level: 100k nested '(' or a few million '+' in one
// expression overflow the goroutine stack, which is fatal (no recover). So
// every text is measured before cc/v4 sees it. The limits are far beyond
// real code: clang's own bracket limit is 256.
const (
	maxBracketDepth = 256     // nested (, [ and {
	maxControlChain = 256     // if/for/while/switch/do/else in one statement
	maxRunTokens    = 200_000 // tokens between two ';', '{' or '}'
)

// nestingProblem scans C text lightly (comments, literals and preprocessor
// lines skipped) and returns the offset and description of the first place
// over a limit, or "" when there is none.
func nestingProblem(src []byte) (int, string) {
	depth, run, control := 0, 0, 0
	lineStart := true
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\\' {
			continue // a line continuation
		}
		if end, kind := trivia(src, i, lineStart); kind != notTrivia {
			if kind == directiveLine {
				if off := directiveTooDeep(src[i:min(end+1, len(src))]); off >= 0 {
					return i + off, fmt.Sprintf("brackets nested more than %d deep", maxBracketDepth)
				}
			}
			lineStart = lineStart || kind == newline
			i = end
			continue
		}
		lineStart = false
		run++
		switch {
		case c == '"' || c == '\'':
			i = skipLiteral(src, i)
		case c == '(' || c == '[' || c == '{':
			depth++
			if depth > maxBracketDepth {
				return i, fmt.Sprintf("brackets nested more than %d deep", maxBracketDepth)
			}
		case c == ')' || c == ']' || c == '}':
			depth = max(depth-1, 0)
		case isIdentByte(c):
			j := i
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			switch string(src[i:j]) {
			case "if", "for", "while", "switch", "do", "else":
				control++
				if control > maxControlChain {
					return i, fmt.Sprintf("more than %d nested control statements without braces", maxControlChain)
				}
			}
			i = j - 1
		}
		if c == ';' || c == '{' || c == '}' {
			run, control = 0, 0
		}
		if run > maxRunTokens {
			return i, fmt.Sprintf("an expression or declaration of more than %d tokens", maxRunTokens)
		}
	}
	return -1, ""
}

// checkNesting is nestingProblem as an error (for a header, whose problem
// is reported at its #include).
func checkNesting(src []byte) error {
	if off, msg := nestingProblem(src); msg != "" {
		return fmt.Errorf("%s (at line %d)", msg, PosAt(src, off).Line)
	}
	return nil
}

// directiveTooDeep returns the offset in a preprocessor line where its
// brackets (an #if expression) nest too deep, or -1.
func directiveTooDeep(line []byte) int {
	depth := 0
	for i, c := range line {
		switch c {
		case '(', '[', '{':
			if depth++; depth > maxBracketDepth {
				return i
			}
		case ')', ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return -1
}
