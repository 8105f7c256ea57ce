package cparse

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"modernc.org/cc/v4"
)

// Options configure a Parser. Command-line or editor settings come first;
// the compile database is searched per file.
type Options struct {
	IncludeDirs []string // -I, searched before the compile database's directories
	Defines     []string // NAME or NAME=VALUE
	Undefines   []string
	CompileDB   string   // explicit compile_commands.json / compile_flags.txt (or a directory); "" = search upward
	NoTrim      bool     // translate the full vmlinux.h instead of the trimmed one
	CacheDir    string   // on-disk cache for the vmlinux.h index; "" = os.UserCacheDir()/bpf-lsp
	Edit        FlagEdit // the project config's added and removed flags
}

// Parser parses BPF C files. It is safe for concurrent use and keeps caches
// (rewritten headers, the vmlinux.h index) across parses.
type Parser struct {
	opts    Options
	headers *headerCache
	vmlinux *vmlinuxCache

	mu      sync.Mutex
	learned map[string][]string // per file: types earlier parses found they need complete
	seeded  map[string]*seedCache
}

// seedCache is what the last seed preprocessing of a file found, so an
// edit that adds no #include and no macro use can skip preprocessing.
type seedCache struct {
	includes string          // the file's #include lines
	seeds    map[string]bool // identifiers and tags after preprocessing
	macros   map[string]bool // macro names defined while preprocessing
	raw      map[string]bool // identifiers of the file's text then
}

// NewParser returns a Parser with the given options.
func NewParser(opts Options) *Parser {
	for i, d := range opts.IncludeDirs {
		if abs, err := filepath.Abs(d); err == nil {
			opts.IncludeDirs[i] = abs
		}
	}
	return &Parser{opts: opts, headers: &headerCache{}, vmlinux: newVmlinuxCache(opts.CacheDir), learned: map[string][]string{}, seeded: map[string]*seedCache{}}
}

// eofGuard is appended to the main file. cc/v4 v4.31.0 loops forever (and
// allocates without bound) when the input ends inside a pointer declarator
// such as `int f(int *`; the identifier in this declaration ends that loop,
// and after a complete file it is a harmless extra declaration.
const eofGuard = "\nextern int __bpf_lsp_eof;\n"

// maxRecoveryRounds bounds how often Parse blanks broken code and retries.
const maxRecoveryRounds = 12

// Parse parses and type-checks path. overlay maps absolute paths to unsaved
// contents (the main file's included). The error is non-nil only when the
// main file cannot be read; problems in the C code are File.Errors.
func (p *Parser) Parse(ctx context.Context, path string, overlay map[string][]byte) (f *File, err error) {
	path, err = filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	src, ok := overlay[path]
	if !ok {
		if src, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	flags, dbErr := findCompileFlags(path, p.opts.CompileDB)
	flags = p.mergeFlags(flags)
	f = &File{Path: path, Src: src, Structs: map[string]*Struct{}, Flags: flags.args(),
		src: &sources{files: map[string][]byte{}}, calls: map[*cc.PostfixExpression]*Call{}}
	for k, v := range overlay {
		f.src.files[k] = v
	}
	if dbErr != nil {
		f.Errors = append(f.Errors, Error{Span: Span{File: path, Start: Pos{1, 1, 0}, End: Pos{1, 1, 0}},
			Severity: SevWarning, Message: dbErr.Error()})
	}
	defer func() {
		// cc/v4 is not written for every broken input; a panic in it must
		// cost this file its AST, never the process.
		if r := recover(); r != nil {
			f.AST = nil
			f.Errors = append(f.Errors, Error{Span: endSpan(path, src), Message: fmt.Sprintf("internal error in the C frontend: %v", r)})
			err = nil
		}
	}()
	p.translate(ctx, f, flags, overlay)
	if f.AST != nil {
		buildModel(f)
	}
	return f, nil
}

// mergeFlags combines the Parser's own flags (command line, editor
// settings), the project config's and the compile database's: include
// directories in that order, macros in the reverse (the last -D wins).
func (p *Parser) mergeFlags(db flagSet) flagSet {
	db = p.opts.Edit.removeFrom(db)
	add := parseFlags(p.opts.Edit.Add, p.opts.Edit.Dir)
	return flagSet{
		Includes:  concat(p.opts.IncludeDirs, add.Includes, db.Includes),
		System:    concat(add.System, db.System),
		Defines:   concat(db.Defines, add.Defines, p.opts.Defines),
		Undefines: concat(db.Undefines, add.Undefines, p.opts.Undefines),
		Forced:    concat(add.Forced, db.Forced),
		Source:    db.Source,
	}
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// args renders flags as compiler arguments (for clang in the verifier).
func (fs flagSet) args() []string {
	var a []string
	for _, d := range fs.Includes {
		a = append(a, "-I"+d)
	}
	for _, d := range fs.System {
		a = append(a, "-isystem", d)
	}
	for _, d := range fs.Defines {
		a = append(a, "-D"+d)
	}
	for _, u := range fs.Undefines {
		a = append(a, "-U"+u)
	}
	for _, h := range fs.Forced {
		a = append(a, "-include", h)
	}
	return a
}

// translate parses with a trimmed vmlinux.h when the program includes one:
// with the declarations it names (pointer targets only forward-declared),
// plus the types that errors show to be needed complete, and finally, if
// errors remain, with the whole header.
func (p *Parser) translate(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte) {
	if p.opts.NoTrim {
		p.translateWith(ctx, f, flags, overlay, nil)
		return
	}
	var seeds map[string]bool
	usesVmlinux := mentionsVmlinux(f.Path, f.Src, overlay)
	if usesVmlinux {
		if seeds = p.reuseSeeds(f); seeds == nil {
			seeds, usesVmlinux = p.vmlinuxSeeds(f, flags, overlay)
		}
	}
	if !usesVmlinux {
		p.translateWith(ctx, f, flags, overlay, nil)
		return
	}
	// Start from what earlier parses of this file learned (the next edit
	// usually chases the same pointers), saving a round.
	p.mu.Lock()
	for _, k := range p.learned[f.Path] {
		seeds[k] = true
	}
	p.mu.Unlock()
	// Incomplete types named in errors ("struct mm_struct has no member")
	// are added to the seeds: a pointer chase needs the pointee complete.
	for round := 0; round < 4; round++ {
		g := *f
		p.translateWith(ctx, &g, flags, overlay, p.vmlinux.trimmer(seeds, 0))
		if g.AST != nil && !trimmingSuspect(g.Errors[len(f.Errors):]) {
			*f = g // clean, or errors of the program's own making
			return
		}
		grown := false
		for _, e := range g.Errors[len(f.Errors):] {
			for _, m := range vmTagRE.FindAllStringSubmatch(e.Message, -1) {
				if k := m[1] + " " + m[2]; !seeds[k] {
					seeds[k], grown = true, true
					p.mu.Lock()
					p.learned[f.Path] = append(p.learned[f.Path], k)
					p.mu.Unlock()
				}
			}
		}
		if !grown {
			break
		}
	}
	p.translateWith(ctx, f, flags, overlay, nil)
}

// mentionsVmlinux is a cheap check before preprocessing for seeds: the
// file, or a header it includes with quotes from its own directory, names
// vmlinux.h.
func mentionsVmlinux(path string, src []byte, overlay map[string][]byte) bool {
	if bytes.Contains(src, []byte("vmlinux.h")) {
		return true
	}
	for _, m := range quotedInclude.FindAllSubmatch(src, -1) {
		h := filepath.Join(filepath.Dir(path), string(m[1]))
		text, ok := overlay[h]
		if !ok {
			text, _ = os.ReadFile(h)
		}
		if bytes.Contains(text, []byte("vmlinux.h")) {
			return true
		}
	}
	return false
}

var quotedInclude = regexp.MustCompile(`(?m)^\s*#\s*include\s*"([^"]+)"`)

// trimmingSuspect reports errors a trimmed vmlinux.h can cause (a type
// left incomplete, a name left out); only those justify a retry with more.
func trimmingSuspect(errs []Error) bool {
	for _, e := range errs {
		m := e.Message
		if strings.Contains(m, "no member named") || strings.Contains(m, "incomplete") ||
			strings.Contains(m, "undefined") || strings.Contains(m, "unknown type") || strings.Contains(m, "vmlinux.h") ||
			strings.HasSuffix(e.Span.File, "vmlinux.h") {
			return true
		}
	}
	return false
}

var defineName = regexp.MustCompile(`(?m)^\s*#\s*define\s+([A-Za-z_]\w*)`)

var includeLine = regexp.MustCompile(`(?m)^\s*#\s*include\b.*$`)

// reuseSeeds returns the last seeds of this file, plus the identifiers of
// its current text, when the edit cannot have changed what preprocessing
// yields: the same #include lines and no name that is a macro. Else nil.
func (p *Parser) reuseSeeds(f *File) map[string]bool {
	p.mu.Lock()
	c := p.seeded[f.Path]
	p.mu.Unlock()
	if c == nil || c.includes != strings.Join(includeLine.FindAllString(string(f.Src), -1), "\n") {
		return nil
	}
	seeds := make(map[string]bool, len(c.seeds)+64)
	for k := range c.seeds {
		seeds[k] = true
	}
	for _, id := range vmIdentRE.FindAll(f.Src, -1) {
		if c.macros[string(id)] && !c.raw[string(id)] {
			return nil // a macro the last text did not use: expand it properly
		}
		seeds[string(id)] = true
	}
	for _, m := range vmTagRE.FindAllSubmatch(f.Src, -1) {
		seeds[string(m[1])+" "+string(m[2])] = true
	}
	return seeds
}

// vmlinuxSeeds preprocesses the file with vmlinux.h served empty and
// collects the identifiers and struct/union/enum tags the program uses:
// the roots of the trimmed header's closure.
func (p *Parser) vmlinuxSeeds(f *File, flags flagSet, overlay map[string][]byte) (map[string]bool, bool) {
	used := false
	fsys := &overlayFS{files: overlay, headers: p.headers, opened: map[string][]byte{}, vmlinux: func(string, []byte) []byte {
		used = true
		return nil
	}}
	cfg, err := newConfig(flags, fsys)
	if err != nil {
		return nil, false
	}
	var out bytes.Buffer
	sources := []cc.Source{{Name: "<predefined>", Value: cfg.Predefined}, {Name: "<builtin>", Value: cc.Builtin}}
	for _, h := range flags.Forced {
		sources = append(sources, cc.Source{Name: h})
	}
	sources = append(sources, cc.Source{Name: f.Path, Value: append(append([]byte{}, f.Src...), eofGuard...)})
	cc.Preprocess(cfg, sources, &out) // errors show up again in Translate
	if !used {
		return nil, false
	}
	seeds := map[string]bool{}
	text := out.Bytes()
	for _, m := range vmTagRE.FindAllSubmatch(text, -1) {
		seeds[string(m[1])+" "+string(m[2])] = true
	}
	for _, id := range vmIdentRE.FindAll(text, -1) {
		seeds[string(id)] = true
	}
	// Macro names: everything #defined in the file and its headers.
	macros := map[string]bool{}
	for _, src := range [][]byte{f.Src} {
		for _, m := range defineName.FindAllSubmatch(src, -1) {
			macros[string(m[1])] = true
		}
	}
	for path := range fsys.opened {
		for _, m := range defineName.FindAllSubmatch(fsys.opened[path], -1) {
			macros[string(m[1])] = true
		}
	}
	raw := map[string]bool{}
	for _, id := range vmIdentRE.FindAll(f.Src, -1) {
		raw[string(id)] = true
	}
	cached := &seedCache{includes: strings.Join(includeLine.FindAllString(string(f.Src), -1), "\n"), seeds: seeds, macros: macros, raw: raw}
	p.mu.Lock()
	p.seeded[f.Path] = cached
	p.mu.Unlock()
	out2 := make(map[string]bool, len(seeds))
	for k := range seeds {
		out2[k] = true
	}
	return out2, true
}

// translateWith runs cc.Translate, recovering from errors: a missing header
// gets an empty stand-in, and broken function bodies or declarations of the
// main file are blanked (spaces, newlines kept) before retrying, so the rest
// of the file keeps a typed AST. Errors of the first complete round are
// reported. vmlinux, when set, serves a trimmed vmlinux.h.
func (p *Parser) translateWith(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, vmlinux func(string, []byte) []byte) {
	files := map[string][]byte{}
	for k, v := range overlay {
		files[k] = v
	}
	fsys := &overlayFS{files: files, headers: p.headers, vmlinux: vmlinux}
	text := append([]byte{}, f.Src...)
	var reported []Error
	primary := false
	for round := 0; round < maxRecoveryRounds; round++ {
		if ctx.Err() != nil {
			f.Errors = append(f.Errors, Error{Span: endSpan(f.Path, f.Src), Message: "parse cancelled: " + ctx.Err().Error()})
			return
		}
		cfg, err := newConfig(flags, fsys)
		if err != nil {
			f.Errors = append(f.Errors, Error{Span: endSpan(f.Path, f.Src), Message: err.Error()})
			return
		}
		sources := []cc.Source{{Name: "<predefined>", Value: cfg.Predefined}, {Name: "<builtin>", Value: cc.Builtin}}
		for _, h := range flags.Forced {
			sources = append(sources, cc.Source{Name: h})
		}
		sources = append(sources, cc.Source{Name: f.Path, Value: append(append([]byte{}, text...), eofGuard...)})
		ast, terr := cc.Translate(cfg, sources)
		if terr == nil {
			f.AST = ast
			break
		}
		errs := parseErrors(terr.Error(), f.Path, f.Src)
		missing := false
		for _, e := range errs {
			if e.Missing == "" {
				continue
			}
			missing = true
			reported = append(reported, e)
			files[standInPath(e, flags)] = nil
		}
		if missing {
			continue // the real errors show once every header is there
		}
		if !primary {
			reported = append(reported, errs...)
			primary = true
		}
		if !blankErrors(text, errs, f.Path) {
			break // nothing left that blanking can fix (e.g. an error in a header)
		}
	}
	f.Errors = append(f.Errors[:len(f.Errors):len(f.Errors)], dedupeErrors(reported)...)
}

// standInPath is where an empty file is served for a missing header: beside
// the file that includes it for "x.h", in the first system directory for <x.h>.
func standInPath(e Error, flags flagSet) string {
	if strings.HasPrefix(e.Missing, "<") {
		dirs := append(append([]string{}, flags.System...), systemIncludeDirs()...)
		if len(dirs) > 0 {
			return filepath.Join(dirs[0], strings.Trim(e.Missing, "<>"))
		}
	}
	return filepath.Join(filepath.Dir(e.Span.File), strings.Trim(e.Missing, `"<>`))
}

// errLine matches one positioned line of a cc/v4 error.
var errLine = regexp.MustCompile(`^(.+?):(\d+):(\d+): (.*)$`)

// checkerSuffix is cc/v4's source location of the check that fired.
var checkerSuffix = regexp.MustCompile(`\s*\(\w+\.go:\d+(:\w*)*:?\)\s*$`)

// parseErrors turns cc/v4's newline-joined error text into Errors.
// Position-less lines are cascades, except EOF errors, which belong at the
// end of the main file. Errors in the EOF guard move to the end of the file.
func parseErrors(text, mainPath string, mainSrc []byte) []Error {
	var out []Error
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := errLine.FindStringSubmatch(line)
		if m == nil {
			if strings.Contains(line, "EOF") {
				msg := strings.TrimPrefix(line, "-: ")
				out = append(out, Error{Span: endSpan(mainPath, mainSrc), Message: checkerSuffix.ReplaceAllString(msg, "")})
			}
			continue
		}
		file, msg := m[1], checkerSuffix.ReplaceAllString(m[4], "")
		if strings.HasPrefix(msg, "TODO") || file == "<builtin>" || file == "<predefined>" {
			continue
		}
		ln, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		e := Error{Message: msg}
		if abs, err := filepath.Abs(file); err == nil {
			file = abs
		}
		if file == mainPath {
			e.Span = lineColSpan(mainPath, mainSrc, ln, col)
		} else {
			e.Span = Span{File: file, Start: Pos{ln, col, -1}, End: Pos{ln, col, -1}}
		}
		if rest, ok := strings.CutPrefix(msg, "include file not found: "); ok {
			e.Missing = rest
			e.Message = "cannot find " + rest
			e.Hint = missingHint(rest)
		}
		out = append(out, e)
	}
	// "unexpected <EOF>" after another error is that error's cascade.
	if len(out) > 1 {
		kept := out[:0]
		for _, e := range out {
			if !strings.Contains(e.Message, "<EOF>") {
				kept = append(kept, e)
			}
		}
		if len(kept) > 0 {
			out = kept
		}
	}
	return out
}

func missingHint(name string) string {
	n := strings.Trim(name, `"<>`)
	switch {
	case filepath.Base(n) == "vmlinux.h":
		return "generate it from the running kernel: bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h"
	case strings.HasPrefix(n, "bpf/"):
		return "libbpf's headers are missing: install libbpf-dev, or add -I for a libbpf checkout"
	case strings.HasPrefix(n, "linux/") || strings.HasPrefix(n, "asm/"):
		return "kernel UAPI headers are missing: install linux-libc-dev, or add -I"
	default:
		return "add its directory with -I, or to compile_commands.json / compile_flags.txt"
	}
}

// lineColSpan is the span of the token-ish word at line:col in src (at
// least one byte), clamped to the text: the EOF guard lies past it.
func lineColSpan(path string, src []byte, line, col int) Span {
	off, ok := offsetOf(src, line, col)
	if !ok {
		return endSpan(path, src)
	}
	end := off
	for end < len(src) && isIdentByte(src[end]) {
		end++
	}
	if end == off && end < len(src) && src[end] != '\n' {
		end++
	}
	return Span{File: path, Start: PosAt(src, off), End: PosAt(src, end)}
}

// endSpan is an empty span at the end of src (where EOF errors belong).
func endSpan(path string, src []byte) Span {
	p := PosAt(src, len(src))
	return Span{File: path, Start: p, End: p}
}

// offsetOf converts a 1-based line and byte column to an offset.
func offsetOf(src []byte, line, col int) (int, bool) {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	off += col - 1
	if off > len(src) || col < 1 {
		return 0, false
	}
	return off, true
}

// PosAt converts a byte offset of src to a Pos (1-based line and byte column).
func PosAt(src []byte, off int) Pos {
	off = min(max(off, 0), len(src))
	line := 1 + bytes.Count(src[:off], []byte{'\n'})
	col := off - (bytes.LastIndexByte(src[:off], '\n') + 1) + 1
	return Pos{Line: line, Col: col, Offset: off}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// dedupeErrors keeps the first error of each line (later ones on a line are
// mostly cascades) and sorts by position.
func dedupeErrors(errs []Error) []Error {
	seen := map[string]bool{}
	var out []Error
	for _, e := range errs {
		k := fmt.Sprintf("%s:%d", e.Span.File, e.Span.Start.Line)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Span, out[j].Span
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Start.Line < b.Start.Line || a.Start.Line == b.Start.Line && a.Start.Col < b.Start.Col
	})
	return out
}
