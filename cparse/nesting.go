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

// nestingProblem scans C text's pieces (directives only for their
// brackets) and returns the offset and description of the first place over
// a limit, or "" when there is none.
func nestingProblem(src []byte) (int, string) {
	depth, run, control := 0, 0, 0
	for p := range pieces(src, true) {
		i := p.start
		switch p.kind {
		case directiveLine:
			if off := directiveTooDeep(src[i:p.end]); off >= 0 {
				return i + off, fmt.Sprintf("brackets nested more than %d deep", maxBracketDepth)
			}
			continue
		case space, newline, comment:
			continue
		case word:
			switch string(src[i:p.end]) {
			case "if", "for", "while", "switch", "do", "else":
				control++
				if control > maxControlChain {
					return i, fmt.Sprintf("more than %d nested control statements without braces", maxControlChain)
				}
			}
		}
		run++
		c := src[i]
		switch c {
		case '(', '[', '{':
			depth++
			if depth > maxBracketDepth {
				return i, fmt.Sprintf("brackets nested more than %d deep", maxBracketDepth)
			}
		case ')', ']', '}':
			depth = max(depth-1, 0)
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
