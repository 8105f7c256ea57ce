package cparse

import (
	"fmt"
	"strings"
	"testing"
)

// TestPieces pins the scanner's edge cases; white space pieces are left
// out of the rendering.
func TestPieces(t *testing.T) {
	kinds := map[pieceKind]string{punct: "punct", word: "word", literal: "lit", comment: "comment", directiveLine: "dir"}
	for _, tc := range []struct {
		text string
		want string
	}{
		// Unterminated comments and literals.
		{"a /* b", `word"a" comment"/* b"`},
		{"/*/ a */b", `comment"/*/ a */" word"b"`},
		{"// a", `comment"// a"`},
		{"\"ab\ncd\"", `lit"\"ab" nl word"cd" lit"\""`},
		{"'a", `lit"'a"`},
		{`"a\"b" c`, `lit"\"a\\\"b\"" word"c"`},
		{`"a\\" c`, `lit"\"a\\\\\"" word"c"`},
		{`'"' "/*" '\''`, `lit"'\"'" lit"\"/*\"" lit"'\\''"`},
		// Line splices, CRLF too: invisible in comments, literals and words.
		{"/* a *\\\n/ b", `comment"/* a *\\\n/" word"b"`},
		{"/\\\n* a */b", `comment"/\\\n* a */" word"b"`},
		{"// a \\\nb\nc", `comment"// a \\\nb" nl word"c"`},
		{"// a \\\r\nb\r\nc", `comment"// a \\\r\nb\r" nl word"c"`},
		{"// a \\\n\nc", `comment"// a \\\n" nl word"c"`},
		{"\"a\\\nb\" c", `lit"\"a\\\nb\"" word"c"`},
		{"\"a\\\\\\\nb\" c", `lit"\"a\\\\\\\nb\"" word"c"`},
		{"\"a\\\\\\\n\nb\"", `lit"\"a\\\\\\\n" nl word"b" lit"\""`},
		{"\"a\\\r\nb\" c", `lit"\"a\\\r\nb\"" word"c"`},
		{"\"a\\\\\n\nb", `lit"\"a\\\\\n" nl word"b"`}, // an escaped newline (after a splice) ends it, as in clang
		{"in\\\nt x\\\n y", `word"in\\\nt" word"x" word"y"`},
		{"a / b", `word"a" punct"/" word"b"`},
		// Directives: after leading white space, comments or splices, over
		// spliced lines and multi-line comments, with literals.
		{" /* c */ #define X 1\nx", `comment"/* c */" dir"#define X 1" nl word"x"`},
		{"/* a\nb */ #if A\nx", `comment"/* a\nb */" dir"#if A" nl word"x"`},
		{"\\\n# if A\n", `dir"# if A" nl`},
		{"#define X \\\n 1\nx", `dir"#define X \\\n 1" nl word"x"`},
		{"#define X \\\r\n 1\r\nx", `dir"#define X \\\r\n 1\r" nl word"x"`},
		{"#define X /* a\nb */ 1\nx", `dir"#define X /* a\nb */ 1" nl word"x"`},
		{"#define X // a \\\nb\nx", `dir"#define X // a \\\nb" nl word"x"`},
		{"#define S \"//\"\nx", `dir"#define S \"//\"" nl word"x"`},
		{"#define Q can't\nx", `dir"#define Q can't" nl word"x"`},
		{"#include <a.h>", `dir"#include <a.h>"`},
		{"x # y\n#z", `word"x" punct"#" word"y" nl dir"#z"`},
		{"x \\\n#y", `word"x" punct"#" word"y"`},
		{"x /* a\n */ #y", `word"x" comment"/* a\n */" punct"#" word"y"`},
	} {
		var got []string
		for p := range pieces([]byte(tc.text), true) {
			switch p.kind {
			case space:
			case newline:
				got = append(got, "nl")
			default:
				got = append(got, kinds[p.kind]+fmt.Sprintf("%q", tc.text[p.start:p.end]))
			}
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("pieces(%q):\n got %s\nwant %s", tc.text, g, tc.want)
		}
	}
}

// '#' is punctuation when directives are not asked for.
func TestPiecesWithoutDirectives(t *testing.T) {
	text := "#define A \\\n 1 // c\n"
	var got []string
	for p := range pieces([]byte(text), false) {
		got = append(got, text[p.start:p.end])
	}
	if g := fmt.Sprintf("%q", got); g != `["#" "define" " " "A" " \\\n " "1" " " "// c" "\n"]` {
		t.Errorf("pieces %s", g)
	}
}

func TestFirstWord(t *testing.T) {
	for _, tc := range []struct{ text, word, rest string }{
		{" /* c */ define X", "define", " X"},
		{"def\\\nine X", "define", " X"},
		{"\\\r\n if", "if", ""},
		{" (x)", "", ""},
		{"", "", ""},
	} {
		w, rest := firstWord([]byte(tc.text))
		if w != tc.word || string(rest) != tc.rest {
			t.Errorf("firstWord(%q) = %q, %q; want %q, %q", tc.text, w, rest, tc.word, tc.rest)
		}
	}
}

func TestWithoutComments(t *testing.T) {
	for in, want := range map[string]string{
		"a/* b */c // d\ne":                "a c  \ne",
		"#define A \\\r\n 1 // x \\\ny\nz": "#define A  1  \nz",
		"s = \"/* k */\"; /* open":         "s = \"/* k */\";  ",
		"no comment":                       "no comment",
	} {
		if got := string(withoutComments([]byte(in))); got != want {
			t.Errorf("withoutComments(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzPieces checks that pieces tile any text, each one non-empty.
func FuzzPieces(f *testing.F) {
	for _, s := range []string{"#define A \\\r\n 1 /* x\n */ 'a' \"b\\\"\" // c\\\nd\n", "\\", "/", "'\\", "/*\\\n*\\\n/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		end := 0
		for p := range pieces([]byte(text), true) {
			if p.start != end || p.end <= p.start {
				t.Fatalf("piece [%d,%d) after %d in %q", p.start, p.end, end, text)
			}
			end = p.end
		}
		if end != len(text) {
			t.Fatalf("pieces end at %d of %d in %q", end, len(text), text)
		}
	})
}

// The preamble region, the directives and the top-level regions read one
// text alike: a // comment continued by a splice hides the next line, and
// a directive runs on through a comment over two lines.
func TestScannersAgree(t *testing.T) {
	text := "// c \\\n#define HIDDEN 1\n#define B 1 /* a\n * b; c */\n#if 1 \\\n  && B\n#endif\nint x;\nint f(void) { return B; }\n"
	if got, want := text[:preambleEnd([]byte(text))], text[:strings.Index(text, "int x")]; got != want {
		t.Errorf("preamble region %q, want %q", got, want)
	}
	var dirs []string
	for _, d := range directivesFrom([]byte(text), 0) {
		dirs = append(dirs, d.name+" "+d.arg)
	}
	if got := strings.Join(dirs, ","); got != "define B,if ,endif " {
		t.Errorf("directives %s", got)
	}
	var regions []string
	for _, r := range topLevelRegions([]byte(text)) {
		regions = append(regions, text[r.start:r.end])
	}
	if got := fmt.Sprintf("%q", regions); got != `["int x;" "int f(void) { return B; }"]` {
		t.Errorf("regions %s", got)
	}
}
