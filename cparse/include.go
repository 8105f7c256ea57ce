package cparse

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"modernc.org/cc/v4"
)

// Include search, as clang does it, on top of cc/v4's own.
//
// cc/v4 searches Config.IncludePaths for "x.h" and SysIncludePaths for <x.h>,
// joining each directory with the name (filepath.Join cleans the result, so
// dir/link/../x loses the symlink) and asking Config.FS for the result.
// cparse gives it clang's lists, in clang's order, between two made-up
// directories the FS understands:
//   - absRoot first: Join(absRoot, "/abs/x.h") is how an absolute name
//     reaches the FS; it is served only for names written absolute.
//   - missingRoot last: reaching it means every real directory failed. The
//     FS serves a stand-in whose only content is a pragma, so the parse goes
//     on (cc/v4 would stop at the first missing header) and cparse learns
//     the name, once.
//
// Every header is served behind an "enter" pragma (then #line 1, so lines
// stay right) and followed by a "leave" pragma. The pragma handler keeps the
// include stack from them: it finds the #include line in the includer, gives
// errors in headers the chain of #include lines from the user's file, bounds
// include depth, stops unguarded include cycles and implements #pragma once,
// which cc/v4 does not.
const (
	absRoot       = "/.bpf-lsp-absolute"
	missingRoot   = "/.bpf-lsp-missing"
	enterPragma   = "__bpf_lsp_enter"
	leavePragma   = "__bpf_lsp_leave"
	missingPragma = "__bpf_lsp_missing"

	// maxIncludeDepth is clang's limit on nested #includes.
	maxIncludeDepth = 200

	// mainSuffix makes the name cc/v4 knows the main file by differ from
	// its path: cc/v4 caches files by name, and a file that includes
	// itself (or a header that includes it) must be read through the FS,
	// with the include markers, not reuse the unmarked main text.
	mainSuffix = "#bpf-lsp-main"
)

var (
	headerPrefix = "#pragma " + enterPragma + "\n#line 1\n"
	headerSuffix = "\n#pragma " + leavePragma + "\n"
)

// defaultSystemDirs are the directories clang -target bpf searches after
// -isystem (clang -v -E shows them): /usr/local/include, clang's resource
// directory and /usr/include. There is no multiarch directory for the BPF
// target; projects add it with -idirafter. A sysroot prefixes all but the
// resource directory. Directories that do not exist are left out, as clang
// does.
func defaultSystemDirs(sysroot string) []string {
	var dirs []string
	add := func(d string) {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			dirs = append(dirs, d)
		}
	}
	add(filepath.Join(sysroot, "/usr/local/include"))
	if res := clangResourceDir(); res != "" {
		add(res)
	}
	add(filepath.Join(sysroot, "/usr/include"))
	return dirs
}

// searchPaths returns cc/v4's IncludePaths and SysIncludePaths for flags:
// searchOrder's lists with the default system directories, between the
// made-up roots.
func searchPaths(fl flagSet) (quoted, angle []string) {
	var defaults []string
	if !fl.NoStdInc {
		defaults = defaultSystemDirs(fl.Sysroot)
	}
	quoted, angle = searchOrder(fl, defaults)
	quoted = append(append([]string{absRoot, ""}, quoted...), missingRoot)
	angle = append(append([]string{absRoot}, angle...), missingRoot)
	return quoted, angle
}

// SearchDirs returns the directories clang searches, in order, under the
// compile arguments args (relative paths are relative to dir): for
// "x.h" after the includer's own directory, and for <x.h>. The default
// system directories are left out: a caller looking for a project's own
// headers does not want them, and finding them takes clang.
func SearchDirs(args []string, dir string) (quoted, angle []string) {
	return searchOrder(parseFlags(args, dir), nil)
}

// searchOrder lists the search directories of flags, with defaults as the
// system directories: "x.h" searches -iquote, then the <x.h> list; <x.h>
// searches -I, -isystem, defaults, -idirafter. Duplicates are dropped as
// clang drops them: a directory is kept where it first appears, except
// that a -I directory that is also a system directory keeps only its
// system place.
func searchOrder(fl flagSet, defaults []string) (quoted, angle []string) {
	var system []string
	system = append(system, fl.System...)
	system = append(system, defaults...)
	system = append(system, fl.After...)
	isSystem := map[string]bool{}
	for _, d := range system {
		isSystem[d] = true
	}
	seen := map[string]bool{}
	for _, d := range fl.Includes {
		if !seen[d] && !isSystem[d] {
			seen[d] = true
			angle = append(angle, d)
		}
	}
	for _, d := range system {
		if !seen[d] {
			seen[d] = true
			angle = append(angle, d)
		}
	}
	seenQ := map[string]bool{}
	for _, d := range fl.Quote {
		if !seenQ[d] {
			seenQ[d] = true
			quoted = append(quoted, d)
		}
	}
	return append(quoted, angle...), angle
}

// directive is one #include line of a file.
type directive struct {
	name  string // between the quotes or angle brackets; "" for a macro
	angle bool
	next  bool // #include_next
	span  Span // from '#' to the end of the name
}

var includeDirective = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*(include_next|include|import)\b[ \t]*(?:"([^"\n]*)"|<([^>\n]*)>)?`)

func scanDirectives(path string, text []byte, lt *lineTable) []directive {
	var out []directive
	for _, m := range directiveMatches(text) {
		d := directive{next: string(text[m[2]:m[3]]) == "include_next"}
		start := m[0]
		for start < len(text) && (text[start] == ' ' || text[start] == '\t') {
			start++
		}
		switch {
		case m[4] >= 0:
			d.name = string(text[m[4]:m[5]])
		case m[6] >= 0:
			d.name, d.angle = string(text[m[6]:m[7]]), true
		}
		d.span = Span{File: path, Start: lt.pos(start), End: lt.pos(m[1])}
		out = append(out, d)
	}
	return out
}

// directiveMatches is includeDirective.FindAllSubmatchIndex(text, -1),
// with the regexp run only on lines that start with '#': over a whole text
// its line anchor makes it try every byte (0.6 s of a check of the kernel
// selftests).
func directiveMatches(text []byte) [][]int {
	var out [][]int
	for off := 0; off < len(text); {
		end := bytes.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		line := text[off:end]
		if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && t[0] == '#' {
			if m := includeDirective.FindSubmatchIndex(line); m != nil {
				for i := range m {
					if m[i] >= 0 {
						m[i] += off
					}
				}
				out = append(out, m)
			}
		}
		off = end + 1
	}
	return out
}

// frame is one file on the include stack.
type frame struct {
	file   string // as cc/v4 names it
	at     Span   // the #include that entered it
	cursor int    // directives before this index have been used
}

// servedFile is what the FS handed cc/v4 for one name.
type servedFile struct {
	display    string // the path to show: symlinks after ".." resolved as the OS did
	real       string // the path read
	directives []directive
}

// includeState follows one translation: what was served under which name,
// the include stack, and the problems found on the way. cc/v4 preprocesses
// in one goroutine, so it needs no lock.
type includeState struct {
	quoted, angle []string
	main          string
	src           *sources // receives the text of every served file

	files    map[string]*servedFile // by the name cc/v4 uses
	absolute map[string]bool        // names written as absolute #includes
	alias    map[string]string      // name cc/v4 will ask for -> path to read
	dirAlias map[string]string      // directory cc/v4 believes in -> real one
	failed   map[string]error       // paths refused for another reason than absence
	once     map[string]bool        // files with #pragma once that were entered

	stack   []frame
	chains  map[string][]Span // per header: the #include lines from the main file down
	missing map[string]bool
	errs    []Error // missing and unreadable headers, cycles, depth
}

func newIncludeState(mainPath string, fl flagSet, src *sources) *includeState {
	s := &includeState{main: mainPath, src: src, files: map[string]*servedFile{}, absolute: map[string]bool{},
		alias: map[string]string{}, dirAlias: map[string]string{}, failed: map[string]error{},
		once: map[string]bool{}, chains: map[string][]Span{}, missing: map[string]bool{}}
	s.quoted, s.angle = searchPaths(fl)
	s.stack = []frame{{file: mainPath + mainSuffix}}
	return s
}

// resolve maps the name cc/v4 asks for to the path to read; ok is false
// when the name cannot exist (an absolute root name nobody wrote).
func (s *includeState) resolve(name string) (string, bool) {
	if rest, ok := strings.CutPrefix(name, absRoot); ok {
		return rest, s.absolute[rest]
	}
	if a, ok := s.alias[name]; ok {
		return a, true
	}
	for dir := filepath.Dir(name); ; dir = filepath.Dir(dir) {
		if real, ok := s.dirAlias[dir]; ok {
			rel, _ := filepath.Rel(dir, name)
			return real + "/" + rel, true
		}
		if filepath.Dir(dir) == dir {
			return name, true
		}
	}
}

// serve records that name was served with text read from real, and
// prepares what its #include lines will ask for: absolute names, and ".."
// names whose lexical join (what cc/v4 will ask for) differs from what the
// OS resolves (clang opens dir/../x through the OS, which follows a
// symlinked dir).
func (s *includeState) serve(name, real string, text []byte, shift int) *servedFile {
	if f, ok := s.files[name]; ok {
		return f
	}
	display := real
	if real != name && name != s.main+mainSuffix {
		if r, err := filepath.EvalSymlinks(real); err == nil {
			display = r
		}
		if filepath.Dir(name) != filepath.Dir(real) {
			s.dirAlias[filepath.Dir(name)] = filepath.Dir(real)
		}
	}
	f := &servedFile{display: display, real: real}
	s.src.add(name, display, text, shift)
	table := func() *lineTable { return s.src.table(display, text) }
	if name == s.main+mainSuffix {
		f.directives = scanDirectives(display, text, table()) // blanking rewrites its text in place
	} else {
		f.directives = cachedDirectives(display, text, table)
	}
	s.files[name] = f
	for _, d := range f.directives {
		switch {
		case filepath.IsAbs(d.name):
			s.absolute[filepath.Clean(d.name)] = true
		case strings.Contains(d.name, ".."):
			for _, dir := range s.candidates(name, d) {
				lexical := filepath.Join(dir, d.name)
				if _, taken := s.alias[lexical]; taken {
					continue
				}
				realDir, _ := s.resolve(dir)
				through := realDir + "/" + d.name
				if st, err := os.Stat(through); err == nil && st.Mode().IsRegular() && !sameFile(through, lexical) {
					s.alias[lexical] = through
				}
			}
		}
	}
	return f
}

func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// candidates are the directories cc/v4 joins d's name with, for a
// directive in the file cc/v4 calls includer (no made-up roots).
func (s *includeState) candidates(includer string, d directive) []string {
	list := s.quoted
	if d.angle || d.next {
		list = s.angle
	}
	var out []string
	for _, dir := range list {
		switch dir {
		case absRoot, missingRoot:
		case "":
			out = append(out, filepath.Dir(includer))
		default:
			out = append(out, dir)
		}
	}
	return out
}

// findDirective returns the #include of the top frame that brought in the
// file cc/v4 calls child, the first one at or after the frame's cursor.
func (s *includeState) findDirective(child string) Span {
	top := &s.stack[len(s.stack)-1]
	f := s.files[top.file]
	if f == nil {
		return Span{File: s.displayName(top.file), Start: Pos{1, 1, 0}, End: Pos{1, 1, 0}}
	}
	match := func(d directive) bool {
		if d.name == "" {
			return false
		}
		if strings.HasPrefix(child, missingRoot) {
			return filepath.Join(missingRoot, d.name) == child
		}
		if filepath.IsAbs(d.name) {
			return filepath.Join(absRoot, d.name) == child
		}
		for _, dir := range s.candidates(top.file, d) {
			if filepath.Join(dir, d.name) == child {
				return true
			}
		}
		return false
	}
	for _, from := range []int{top.cursor, 0} {
		for i := from; i < len(f.directives); i++ {
			if match(f.directives[i]) {
				top.cursor = i + 1
				return f.directives[i].span
			}
		}
	}
	// Computed (#include MACRO): the next one not yet used.
	for i := top.cursor; i < len(f.directives); i++ {
		if f.directives[i].name == "" {
			top.cursor = i + 1
			return f.directives[i].span
		}
	}
	return Span{File: f.display, Start: Pos{1, 1, 0}, End: Pos{1, 1, 0}}
}

func (s *includeState) displayName(name string) string {
	if f, ok := s.files[name]; ok {
		return f.display
	}
	return name
}

// chain returns the #include lines from the main file down to at.
func (s *includeState) chain(at Span) []Span {
	var out []Span
	for _, f := range s.stack[1:] {
		out = append(out, f.at)
	}
	return append(out, at)
}

// pragma is cc/v4's PragmaHandler: the include markers, #pragma once.
func (s *includeState) pragma(toks []cc.Token) error {
	if len(toks) == 0 {
		return nil
	}
	file := toks[0].Position().Filename
	switch toks[0].SrcStr() {
	case enterPragma:
		return s.enter(file)
	case leavePragma:
		if n := len(s.stack); n > 1 && s.stack[n-1].file == file {
			s.stack = s.stack[:n-1]
		}
	case missingPragma:
		s.missingHeader(file)
	case "once":
		if len(toks) == 1 {
			s.once[s.displayName(file)] = true
		}
	}
	return nil
}

func (s *includeState) enter(file string) error {
	at := s.findDirective(file)
	if s.once[s.displayName(file)] {
		return cc.SkipSource
	}
	if len(s.stack) > maxIncludeDepth {
		s.report(s.chain(at), fmt.Sprintf("#include nested too deeply (more than %d levels): %s", maxIncludeDepth, filepath.Base(s.displayName(file))), "")
		return cc.SkipSource
	}
	count := 0
	for _, f := range s.stack {
		if s.displayName(f.file) == s.displayName(file) {
			count++
		}
	}
	if count >= 2 {
		// Re-entered while already open twice: no include guard stops it.
		var names []string
		for _, f := range s.stack[1:] {
			names = append(names, filepath.Base(s.displayName(f.file)))
		}
		names = append(names, filepath.Base(s.displayName(file)))
		s.report(s.chain(at), "include cycle without an include guard: "+strings.Join(names, " -> "), "add an include guard or #pragma once, or remove the #include")
		return cc.SkipSource
	}
	if _, ok := s.chains[file]; !ok {
		s.chains[file] = s.chain(at)
	}
	s.stack = append(s.stack, frame{file: file, at: at})
	return nil
}

// missingHeader records a header no directory has, once per name.
func (s *includeState) missingHeader(standIn string) {
	at := s.findDirective(standIn)
	name := strings.TrimPrefix(standIn, missingRoot+"/")
	if s.missing[name] {
		return
	}
	s.missing[name] = true
	spelled := name
	for _, d := range s.files[s.stack[len(s.stack)-1].file].directivesOrNil() {
		if d.span == at && d.name != "" {
			spelled = `"` + d.name + `"`
			if d.angle {
				spelled = "<" + d.name + ">"
			}
		}
	}
	msg := "cannot find " + spelled
	if why := s.refused(name); why != nil {
		msg = fmt.Sprintf("cannot read %s: %v", spelled, why)
	}
	chain := s.chain(at)
	if len(chain) > 1 {
		msg += " (included from " + s.describe(chain) + ")"
	}
	s.report(chain, msg, missingHint(spelled))
	s.errs[len(s.errs)-1].Missing = spelled
}

func (f *servedFile) directivesOrNil() []directive {
	if f == nil {
		return nil
	}
	return f.directives
}

// refused returns why a file found under name could not be used (a FIFO,
// a device, too large, no permission), or nil.
func (s *includeState) refused(name string) error {
	keys := make([]string, 0, len(s.failed))
	for p := range s.failed {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	rel := filepath.Clean(name)
	for strings.HasPrefix(rel, "../") {
		rel = rel[3:] // joined with any directory, it ends the same way
	}
	suffix := "/" + strings.TrimPrefix(rel, "/")
	for _, p := range keys {
		if strings.HasSuffix(p, suffix) || filepath.IsAbs(name) && p == filepath.Join(absRoot, name) {
			return s.failed[p]
		}
	}
	return nil
}

// describe renders a chain of #include lines innermost first, as
// "a.h:3 <- prog.bpf.c:5".
func (s *includeState) describe(chain []Span) string {
	parts := make([]string, 0, len(chain))
	for i := len(chain) - 1; i >= 0; i-- {
		parts = append(parts, fmt.Sprintf("%s:%d", filepath.Base(chain[i].File), chain[i].Start.Line))
	}
	return strings.Join(parts, " <- ")
}

// report records an include problem at the user's #include (the first of
// chain), with the deeper #include lines as related locations.
func (s *includeState) report(chain []Span, msg, hint string) {
	e := Error{Span: chain[0], Message: msg, Hint: hint}
	for _, at := range chain[1:] {
		e.Related = append(e.Related, Related{Span: at, Message: "included here"})
	}
	s.errs = append(s.errs, e)
}

// inHeader moves an error located in a header to the user's #include of
// that header, keeping the header location as related information.
func (s *includeState) inHeader(e Error, virtual string) Error {
	chain := s.chains[virtual]
	if len(chain) == 0 || chain[0].File != s.main {
		return e
	}
	out := Error{Span: chain[0], Severity: e.Severity, Hint: e.Hint,
		Message: fmt.Sprintf("in %s: %s", filepath.Base(e.Span.File), e.Message)}
	out.Related = append(out.Related, Related{Span: e.Span, Message: e.Message})
	for _, at := range chain[1:] {
		out.Related = append(out.Related, Related{Span: at, Message: "included here"})
	}
	return out
}

// servedText wraps a header's text in the include markers.
func servedText(text []byte) []byte {
	out := make([]byte, 0, len(headerPrefix)+len(text)+len(headerSuffix))
	out = append(out, headerPrefix...)
	out = append(out, text...)
	return append(out, headerSuffix...)
}

// missingText is what a missing header is served as.
var missingText = []byte("#pragma " + missingPragma + "\n")
