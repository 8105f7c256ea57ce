package cparse

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/cc/v4"
)

// Options configure a Parser. Command-line or editor settings come first;
// the compile database's flags follow them (as clang sees `cmd <these>
// <database's>`).
type Options struct {
	IncludeDirs   []string // -I
	QuoteDirs     []string // -iquote
	SystemDirs    []string // -isystem
	AfterDirs     []string // -idirafter
	ForcedHeaders []string // -include
	Sysroot       string   // --sysroot
	Defines       []string // NAME or NAME=VALUE
	Undefines     []string
	CompileDB     string   // explicit compile_commands.json / flags file (or a directory); "" = search upward
	NoTrim        bool     // translate the full vmlinux.h instead of the trimmed one
	NoPreamble    bool     // translate the headers on every parse instead of resuming from a cached preamble
	WholeFile     bool     // translate an open document's whole text on every parse instead of per function (funcs.go)
	CacheDir      string   // on-disk cache for the vmlinux.h index; "" = os.UserCacheDir()/bpf-lsp
	MaxFileSize   int64    // largest source, header or database read; 0 = DefaultMaxFileSize
	Edit          FlagEdit // the project config's added and removed flags
	// Args are more flags in clang's syntax (-I, -iquote, -isystem,
	// -idirafter, -include, --sysroot, -D, -U), as an editor passes them;
	// relative paths are relative to ArgsDir. They follow the fields above.
	Args    []string
	ArgsDir string

	// OpenPreambles builds preambles only for files open in an editor
	// (their text in the overlay): a server's other parses are of closed
	// files, each parsed once per change.
	OpenPreambles bool
}

// Parser parses BPF C files. It is safe for concurrent use and keeps caches
// (rewritten headers, compile databases, the vmlinux.h index, what trimming
// learned) across parses and files.
type Parser struct {
	opts    Options
	own     flagSet // the options as flags
	headers *headerCache
	dbs     *dbCache
	vmlinux *vmlinuxCache

	passes headerPasses // what the headers of a set of #include lines contribute to the seeds
	scans  scanCache    // what each header text contributes

	mu      sync.Mutex
	learned map[string]bool // tags trimmed vmlinux.h parses found they need complete, for every file
	genuine map[string]bool // error sets the full vmlinux.h gives too: no fallback next time

	preambles      preambleCache
	batch          batchPlan    // preambles shared by the files of a batch (share.go)
	funcDocs       funcDocs     // open documents' function ASTs (funcs.go)
	funcStats      FuncStats    // under mu
	preambleBuilds atomic.Int64 // preambles translated (tests count them)
	headerOpens    atomic.Int64 // files served to cc/v4 (tests count them)
}

// NewParser returns a Parser with the given options; relative directories
// are made absolute against the working directory.
func NewParser(opts Options) *Parser {
	abs := func(list []string) []string {
		out := make([]string, len(list))
		for i, d := range list {
			out[i] = d
			if a, err := filepath.Abs(d); err == nil {
				out[i] = a
			}
		}
		return out
	}
	opts.IncludeDirs, opts.QuoteDirs = abs(opts.IncludeDirs), abs(opts.QuoteDirs)
	opts.SystemDirs, opts.AfterDirs, opts.ForcedHeaders = abs(opts.SystemDirs), abs(opts.AfterDirs), abs(opts.ForcedHeaders)
	if opts.Sysroot != "" {
		opts.Sysroot = abs([]string{opts.Sysroot})[0]
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	own := flagSet{Quote: opts.QuoteDirs, Includes: opts.IncludeDirs, System: opts.SystemDirs, After: opts.AfterDirs,
		Sysroot: opts.Sysroot, Defines: opts.Defines, Undefines: opts.Undefines, Forced: opts.ForcedHeaders}
	// The project config's additions come after the command line's and
	// before the compile database's, as if written between them.
	own = own.merge(parseFlags(opts.Args, opts.ArgsDir))
	own = own.merge(parseFlags(opts.Edit.Add, opts.Edit.Dir))
	return &Parser{opts: opts, own: own, headers: &headerCache{maxSize: opts.MaxFileSize}, dbs: &dbCache{maxSize: opts.MaxFileSize},
		vmlinux: newVmlinuxCache(opts.CacheDir), learned: map[string]bool{}, genuine: map[string]bool{}}
}

// CompileFlags are the effective clang flags for a file and where they came
// from.
type CompileFlags struct {
	Args   []string // include search, macros and forced includes, in clang's syntax
	Source string   // the database ("borrowed from X in DB" for a file it does not list), "" for none
	Err    error    // a database that could not be read (the flags are then the Parser's own)
}

// CompileFlags returns the flags Parse uses for path: the Parser's own
// followed by those of the compile database (see Options.CompileDB).
func (p *Parser) CompileFlags(path string) CompileFlags {
	fl, err := p.flagsFor(path)
	return CompileFlags{Args: fl.args(), Source: fl.Source, Err: err}
}

func (p *Parser) flagsFor(path string) (flagSet, error) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	db, err := p.dbs.findCompileFlags(path, p.opts.CompileDB)
	return p.own.merge(p.opts.Edit.removeFrom(db)), err
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
// main file cannot be read; problems in the C code are File.Errors. A
// cancelled ctx stops the parse at the next phase or #include; the File
// then says so in its Errors.
func (p *Parser) Parse(ctx context.Context, path string, overlay map[string][]byte) (f *File, err error) {
	path, err = filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	defer p.batch.parsed(path)
	src, err := p.mainText(path, overlay)
	if err != nil {
		return nil, err
	}
	flags, dbErr := p.flagsFor(path)
	f = &File{Path: path, Src: src, Structs: map[string]*Struct{}, Flags: flags.args(), FlagsSource: flags.Source, spans: &spanMemo{}, sighted: new(string),
		src: &sources{files: map[string][]byte{}, maxSize: p.opts.MaxFileSize}, calls: map[*cc.PostfixExpression]*Call{}}
	for k, v := range overlay {
		f.src.files[k] = v
	}
	if dbErr != nil {
		f.Errors = append(f.Errors, Error{Span: Span{File: path, Start: Pos{1, 1, 0}, End: Pos{1, 1, 0}},
			Severity: SevWarning, Message: dbErr.Error()})
	}
	defer func() {
		// cc/v4 is not written for every broken input; a panic in it (or
		// in the model built from its AST) must cost this file its AST,
		// never the process.
		if r := recover(); r != nil {
			f.AST = nil
			f.Vars, f.Funcs, f.funcs, f.Structs = nil, nil, nil, map[string]*Struct{}
			f.Errors = append(f.Errors, internalError(path, src, r))
			err = nil
		}
	}()
	text := append([]byte{}, src...)
	for range maxRecoveryRounds {
		off, msg := nestingProblem(text)
		if msg == "" {
			break
		}
		at := PosAt(src, off)
		f.Errors = append(f.Errors, Error{Span: lineColSpan(path, src, at.Line, at.Col), Message: msg + "; this declaration is not analysed"})
		if !blankRegionAt(text, off) {
			blank(text[off:]) // no region holds it: nothing after it can be parsed safely
		}
	}
	if _, msg := nestingProblem(text); msg != "" {
		return f, nil // still too deep after every blanking round: leave cc/v4 out
	}
	p.translate(ctx, f, flags, overlay, text)
	for i := range f.Errors {
		// Shortened only now: the trimming retry reads the member lists.
		f.Errors[i].Message = shortTypes(f.Errors[i].Message)
	}
	if ctx.Err() != nil {
		f.AST = nil
		f.Errors = append(f.Errors, Error{Span: endSpan(path, src), Message: "parse cancelled: " + ctx.Err().Error()})
		return f, nil
	}
	if f.AST != nil {
		buildModel(f)
		p.keepFuncDoc(f)
	}
	f.reuse = nil
	return f, nil
}

// mainText is path's text as a parse reads it: the editor's, else the
// file's.
func (p *Parser) mainText(path string, overlay map[string][]byte) ([]byte, error) {
	if text, ok := overlay[path]; ok {
		return text, nil
	}
	return readRegular(path, p.opts.MaxFileSize)
}

// internalError turns a recovered panic into an Error carrying the stack.
func internalError(path string, src []byte, r any) Error {
	return Error{Span: Span{File: path, Start: Pos{1, 1, 0}, End: PosAt(src, lineEnd(src, 0))},
		Message: fmt.Sprintf("internal error in the C frontend (please report it): %v", r), Stack: string(debug.Stack())}
}

func lineEnd(src []byte, off int) int {
	if i := bytes.IndexByte(src[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(src)
}

// translate parses with a trimmed vmlinux.h when the program includes one:
// the declarations it names (pointer targets only forward-declared), plus
// what earlier parses of any file learned they need complete, plus the types
// errors show to be needed. Only when errors remain that trimming could
// cause does the full header decide, once per distinct set of errors: a
// genuine type error is not re-translated with the full header every edit.
func (p *Parser) translate(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, text []byte) {
	if p.opts.NoTrim {
		p.translateWith(ctx, f, flags, overlay, text, nil, maxRecoveryRounds)
		return
	}
	// Whether vmlinux.h is included at all shows only by preprocessing
	// (it is often reached through a project header found with -I).
	seeds, usesVmlinux := p.seedsFor(ctx, f, flags, overlay, text)
	if !usesVmlinux || ctx.Err() != nil {
		p.translateWith(ctx, f, flags, overlay, text, nil, maxRecoveryRounds)
		return
	}
	p.mu.Lock()
	for k := range p.learned {
		seeds[k] = true
	}
	p.mu.Unlock()
	// Decide on the header with single translations (no blanking): the
	// blanking rounds then run once, with the header chosen.
	base := len(f.Errors)
	var g File
	for range 4 {
		g = *f
		p.translateWith(ctx, &g, flags, overlay, text, maps.Clone(seeds), 1)
		if ctx.Err() != nil || g.AST != nil {
			*f = g
			return
		}
		if !p.trimmingSuspect(g.Errors[base:]) || !p.learnFromErrors(seeds, g.Errors[base:]) {
			break
		}
	}
	trimmed := maps.Clone(seeds)
	if !p.trimmingSuspect(g.Errors[base:]) {
		p.translateWith(ctx, f, flags, overlay, text, trimmed, maxRecoveryRounds)
		return
	}
	// Errors trimming could cause: the full header decides, once per
	// distinct set of errors.
	key := f.Path + "\x00" + errorKey(g.Errors[base:])
	p.mu.Lock()
	known := p.genuine[key]
	p.mu.Unlock()
	if !known {
		full := *f
		p.translateWith(ctx, &full, flags, overlay, text, nil, 1)
		if full.AST != nil {
			p.learnFromAST(&full)
			*f = full
			return
		}
		if errorKey(full.Errors[base:]) != errorKey(g.Errors[base:]) {
			// The full header changes the errors: use it.
			p.translateWith(ctx, f, flags, overlay, text, nil, maxRecoveryRounds)
			return
		}
		p.mu.Lock()
		p.genuine[key] = true
		p.mu.Unlock()
	}
	p.translateWith(ctx, f, flags, overlay, text, trimmed, maxRecoveryRounds)
}

// learnFromErrors adds the struct/union/enum tags named in errors to seeds
// and to what the Parser has learned; it reports whether anything was new.
func (p *Parser) learnFromErrors(seeds map[string]bool, errs []Error) bool {
	grown := false
	for _, e := range errs {
		msgs := []string{e.Message}
		for _, r := range e.Related {
			msgs = append(msgs, r.Message)
		}
		for _, msg := range msgs {
			names, complete := errorSubjects(msg)
			if complete {
				continue
			}
			for _, k := range names {
				if !seeds[k] && p.vmlinux.defines(k) {
					seeds[k], grown = true, true
					p.mu.Lock()
					p.learned[k] = true
					p.mu.Unlock()
				}
			}
		}
	}
	return grown
}

// learnFromAST records, after the full vmlinux.h fixed what the trimmed one
// broke, every tagged type the main file's expressions reach, so the next
// trimmed parse (of any file) has them complete.
func (p *Parser) learnFromAST(f *File) {
	tags := map[string]bool{}
	for tu := f.AST.TranslationUnit; tu != nil; tu = tu.TranslationUnit {
		ed := tu.ExternalDeclaration
		if ed == nil || f.fileOf(ed.Position().Filename) != f.Path {
			continue
		}
		Inspect(ed, func(n cc.Node) bool {
			if e, ok := n.(cc.ExpressionNode); ok {
				collectTags(e.Type(), tags, 4)
			}
			return true
		})
	}
	p.mu.Lock()
	for k := range tags {
		p.learned[k] = true
	}
	p.mu.Unlock()
}

// collectTags adds the tag of t (through pointers and arrays) as
// "struct x"/"union x"/"enum x".
func collectTags(t cc.Type, tags map[string]bool, depth int) {
	for i := 0; t != nil && i < depth; i++ {
		switch x := t.(type) {
		case *cc.PointerType:
			t = x.Elem()
			continue
		case *cc.ArrayType:
			t = x.Elem()
			continue
		case *cc.StructType:
			if tag := x.Tag(); tag.SrcStr() != "" {
				tags["struct "+tag.SrcStr()] = true
			}
		case *cc.UnionType:
			if tag := x.Tag(); tag.SrcStr() != "" {
				tags["union "+tag.SrcStr()] = true
			}
		case *cc.EnumType:
			if tag := x.Tag(); tag.SrcStr() != "" {
				tags["enum "+tag.SrcStr()] = true
			}
		}
		return
	}
}

// errorKey identifies a set of errors by message and position.
func errorKey(errs []Error) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "%d:%d:%s\n", e.Span.Start.Line, e.Span.Start.Col, e.Message)
	}
	return b.String()
}

// undefinedRE finds the name in cc/v4's "undefined: X".
var undefinedRE = regexp.MustCompile(`undefined: ([A-Za-z_]\w*)`)

// trimmingSuspect reports errors a trimmed vmlinux.h can cause (a type
// left incomplete, a name left out); only those justify a retry with more.
// An error about names vmlinux.h does not define, or about a member missing
// from a type that was complete, is the program's own: the full header
// would give the same error (a genuine type error, or a kernel without that
// feature).
func (p *Parser) trimmingSuspect(errs []Error) bool {
	for _, e := range errs {
		names, complete := errorSubjects(e.Message)
		if complete {
			continue
		}
		if len(names) > 0 {
			for _, n := range names {
				if p.vmlinux.defines(n) {
					return true
				}
			}
			continue
		}
		m := e.Message
		if strings.Contains(m, "incomplete") || strings.Contains(m, "unknown type") || strings.Contains(m, "vmlinux.h") ||
			strings.HasSuffix(e.Span.File, "vmlinux.h") || strings.HasSuffix(e.header, "vmlinux.h") {
			return true
		}
	}
	return false
}

// errorSubjects returns the names an error is about: the identifier of
// "undefined: X", the type of "type struct x {...} has no member named m"
// (complete when its printed body is not empty), or every tag it names.
func errorSubjects(msg string) (names []string, complete bool) {
	if u := undefinedRE.FindStringSubmatch(msg); u != nil {
		return []string{u[1]}, false
	}
	tags := vmTagRE.FindAllStringSubmatchIndex(msg, -1)
	if strings.Contains(msg, "has no member named") && len(tags) > 0 {
		t := tags[0]
		rest := strings.TrimLeft(msg[t[1]:], " ")
		return []string{msg[t[2]:t[3]] + " " + msg[t[4]:t[5]]}, strings.HasPrefix(rest, "{") && !strings.HasPrefix(rest, "{}")
	}
	for _, t := range tags {
		names = append(names, msg[t[2]:t[3]]+" "+msg[t[4]:t[5]])
	}
	return names, false
}

// newRound prepares one cc/v4 run over the main file's text: a fresh FS
// and include state (cc/v4 reads every file again per run), the Config and
// the sources in the order cc/v4 needs them.
func (p *Parser) newRound(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, text []byte, vmlinux func(string, []byte) []byte) (*cc.Config, []cc.Source, *overlayFS, error) {
	return p.newRoundOf(ctx, f.Path, f.src, flags, overlay, text, f.Path+mainSuffix, append(append([]byte{}, text...), eofGuard...), vmlinux)
}

// newRoundOf is newRound for the main file at path with the given text,
// recording served texts in src; cc/v4 reads source, named sourceName, as
// the main file.
func (p *Parser) newRoundOf(ctx context.Context, path string, src *sources, flags flagSet, overlay map[string][]byte, text []byte, sourceName string, source []byte, vmlinux func(string, []byte) []byte) (*cc.Config, []cc.Source, *overlayFS, error) {
	inc := newIncludeState(path, flags, src)
	inc.serve(path+mainSuffix, path, text, 0)
	fsys := &overlayFS{ctx: ctx, files: overlay, headers: p.headers, vmlinux: vmlinux, inc: inc}
	cfg, err := newConfig(flags, fsys)
	if err != nil {
		return nil, nil, nil, err
	}
	sources := []cc.Source{{Name: "<predefined>", Value: cfg.Predefined}, {Name: "<builtin>", Value: cc.Builtin},
		{Name: "<bpf-lsp-builtin>", Value: builtinCompat}}
	for _, h := range flags.Forced {
		if _, err := fsys.Open(h); err != nil {
			inc.report([]Span{{File: path, Start: Pos{1, 1, 0}, End: Pos{1, 1, 0}}},
				fmt.Sprintf("cannot read the forced include (-include) %s: %v", h, why(inc, h, err)), "")
			continue
		}
		sources = append(sources, cc.Source{Name: h})
	}
	sources = append(sources, cc.Source{Name: sourceName, Value: source})
	return cfg, sources, fsys, nil
}

// why is the reason a file the FS refused was refused.
func why(inc *includeState, name string, err error) error {
	if e := inc.failed[filepath.Clean(name)]; e != nil {
		return e
	}
	return err
}

// translateWith runs cc.Translate, recovering from errors: broken function
// bodies or declarations of the main file are blanked (spaces, newlines
// kept) before retrying, so the rest of the file keeps a typed AST. Errors
// of the first round are reported: include problems, then the C errors
// (those in headers at the user's #include), unless a header is missing or
// unreadable, whose absence explains them. seeds, when set, trim
// vmlinux.h to what they reach. Each run resumes from a preamble (the
// headers translated once, see preamble.go) when it can, and translates
// the whole file when it cannot.
func (p *Parser) translateWith(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, src []byte, seeds map[string]bool, rounds int) {
	text := append([]byte{}, src...)
	var reported []Error
	var vmlinux func(string, []byte) []byte
	if seeds != nil {
		vmlinux = p.vmlinux.trimmer(seeds, 0)
	}
	var resumed *preamble // what the last run resumed from
	run := func(text []byte) (*cc.AST, *includeState, *panicked, error) {
		ast, inc, e, err := p.resume(ctx, f, flags, overlay, text, seeds)
		if resumed = e; e != nil {
			return ast, inc, nil, err
		}
		cfg, sources, fsys, err := p.newRound(ctx, f, flags, overlay, text, vmlinux)
		if err != nil {
			return nil, nil, nil, err
		}
		fsys.count = &p.headerOpens
		ast, pv, terr := recovering(func() (*cc.AST, error) { return cc.Translate(cfg, sources) })
		return ast, fsys.inc, pv, terr
	}
	for round := 0; round < rounds; round++ {
		if ctx.Err() != nil {
			return
		}
		if round == 0 && p.translateFuncs(ctx, f, flags, overlay, text, seeds) {
			return
		}
		ast, inc, pv, terr := run(text)
		if inc == nil {
			f.Errors = append(f.Errors, Error{Span: endSpan(f.Path, f.Src), Message: terr.Error()})
			return
		}
		if pv != nil {
			// cc/v4 panicked: find the declaration that makes it panic,
			// report it there and go on without it.
			e, ok := isolatePanic(ctx, f.Path, f.Src, text, pv, func(t []byte) bool {
				_, _, pv, _ := run(t)
				return pv != nil
			})
			reported = append(reported, e)
			if !ok {
				break
			}
			continue
		}
		var errs []Error
		if terr != nil {
			errs = parseErrors(terr.Error(), f.Path, f.Src, inc)
			if len(errs) == 0 {
				// Only position-less errors (cc/v4's "TODO" for what it
				// does not implement): still, the file has no AST.
				msg, _, _ := strings.Cut(terr.Error(), "\n")
				errs = []Error{{Span: Span{File: f.Path, Start: Pos{1, 1, 0}, End: PosAt(f.Src, lineEnd(f.Src, 0))},
					Message: "the C frontend cannot check this file: " + checkerSuffix.ReplaceAllString(msg, "")}}
			}
		}
		if round == 0 {
			reported = append(reported, inc.errs...)
			if len(inc.errs) == 0 {
				for _, e := range errs {
					reported = append(reported, inc.inHeader(e, e.header))
				}
			}
		}
		if terr == nil {
			f.AST, f.pre = ast, resumed
			break
		}
		if inHeaders(errs) || !blankErrors(text, errs, f.Path) {
			break // nothing blanking the main file can fix: the AST stays nil
		}
	}
	f.Errors = append(f.Errors[:len(f.Errors):len(f.Errors)], dedupeErrors(reported)...)
}

// panicked is a recovered panic and its stack.
type panicked struct {
	value any
	stack string
}

// recovering runs one of cc/v4's translations with its panics recovered
// (cc/v4 is not written for every broken input): pv is the panic, if any.
func recovering[T any](translate func() (T, error)) (r T, pv *panicked, err error) {
	defer func() {
		if x := recover(); x != nil {
			var zero T
			r, pv, err = zero, &panicked{value: x, stack: string(debug.Stack())}, nil
		}
	}()
	r, err = translate()
	return r, nil, err
}

// isolatePanic finds, by bisection over the main file's top-level
// declarations, one whose blanking stops the panic (panics reports whether
// a text still makes cc/v4 panic), blanks it in text and returns an
// internal error located there. ok is false when no declaration of the
// main file is to blame (the panic comes from a header); the error is then
// at the top of the file.
func isolatePanic(ctx context.Context, path string, src, text []byte, pv *panicked, panics func([]byte) bool) (Error, bool) {
	e := Error{Span: Span{File: path, Start: Pos{1, 1, 0}, End: PosAt(src, lineEnd(src, 0))},
		Message: fmt.Sprintf("internal error in the C frontend (please report it): %v", pv.value), Stack: pv.stack}
	regions := topLevelRegions(text)
	without := func(rs []region) []byte {
		t := append([]byte{}, text...)
		for _, r := range rs {
			blank(t[r.start:r.end])
		}
		return t
	}
	if len(regions) == 0 || panics(without(regions)) {
		return e, false
	}
	for len(regions) > 1 && ctx.Err() == nil {
		half := regions[:len(regions)/2]
		if panics(without(half)) {
			regions = regions[len(regions)/2:]
		} else {
			regions = half
		}
	}
	r := regions[0]
	blank(text[r.start:r.end])
	at := PosAt(src, r.start)
	e.Span = lineColSpan(path, src, at.Line, at.Col)
	e.Message += "; this declaration is not analysed"
	return e, true
}

// inHeaders reports whether any error lies in a header.
func inHeaders(errs []Error) bool {
	for _, e := range errs {
		if e.header != "" {
			return true
		}
	}
	return false
}

// errLine matches one positioned line of a cc/v4 error.
var errLine = regexp.MustCompile(`^(.+?):(\d+):(\d+): (.*)$`)

// checkerSuffix is cc/v4's source location of the check that fired.
var checkerSuffix = regexp.MustCompile(`\s*\(\w+\.go:\d+(:\w*)*:?\)\s*$`)

// shortTypes writes the struct and union types in a cc/v4 message the way
// clang does: cc/v4 spells each one with all its members ("type struct
// inet_connection_sock {icsk_inet struct inet_sock; ...} has no member"),
// hundreds of characters that hide the point. A named type keeps its name,
// an anonymous one becomes "struct {...}".
func shortTypes(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		if msg[i] != '{' || !afterRecordName(msg[:i]) {
			b.WriteByte(msg[i])
			continue
		}
		depth, j := 0, i
		for ; j < len(msg); j++ {
			if msg[j] == '{' {
				depth++
			} else if msg[j] == '}' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		if j == len(msg) { // unbalanced: leave the rest as it is
			b.WriteString(msg[i:])
			break
		}
		if text := b.String(); strings.HasSuffix(text, "struct ") || strings.HasSuffix(text, "union ") {
			b.WriteString("{...}")
		} else {
			trimmed := strings.TrimSuffix(text, " ")
			b.Reset()
			b.WriteString(trimmed)
		}
		i = j
	}
	return b.String()
}

// afterRecordName reports whether s ends with "struct NAME " or "union
// NAME " (or an anonymous "struct "/"union "): a '{' there opens cc/v4's
// member list.
func afterRecordName(s string) bool {
	s = strings.TrimSuffix(s, " ")
	if strings.HasSuffix(s, "struct") || strings.HasSuffix(s, "union") {
		return true
	}
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return false
	}
	word := s[:i]
	return strings.HasSuffix(word, "struct") || strings.HasSuffix(word, "union")
}

// parseErrors turns cc/v4's newline-joined error text into Errors, with
// file names as the user knows them. Position-less lines are cascades,
// except EOF errors, which belong at the end of the main file. Errors in
// the EOF guard move to the end of the file.
func parseErrors(text, mainPath string, mainSrc []byte, inc *includeState) []Error {
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
		if strings.HasPrefix(msg, "TODO") || file == "<builtin>" || file == "<predefined>" || file == "<bpf-lsp-builtin>" {
			continue
		}
		ln, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		e := Error{Message: msg, header: file}
		if display, _ := inc.src.resolve(file); display == mainPath {
			e.Span = lineColSpan(mainPath, mainSrc, ln, col)
			e.header = ""
		} else {
			e.Span = lineColSpan(display, inc.src.text(display), ln, col)
		}
		if name, ok := strings.CutPrefix(msg, "include file not found: "); ok {
			// Only when the name escapes the stand-in directory with "..":
			// every other missing header reaches the include state.
			e.Missing, e.Message, e.Hint = name, "cannot find "+name, missingHint(name)
			if why := inc.refused(strings.Trim(name, `"<>`)); why != nil {
				e.Message = fmt.Sprintf("cannot read %s: %v", name, why)
			}
		}
		out = append(out, e)
	}
	// "unexpected <EOF>" after another error is that error's cascade, and
	// so is any EOF error after a missing header (cc/v4 stops there).
	missing := false
	for _, e := range out {
		missing = missing || e.Missing != ""
	}
	if len(out) > 1 {
		kept := out[:0]
		for _, e := range out {
			if !strings.Contains(e.Message, "<EOF>") && !(missing && e.Missing == "" && strings.Contains(e.Message, "EOF")) {
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
		return "generate it from the running kernel: bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h, and add its directory with -I"
	case strings.HasPrefix(n, "bpf/"):
		return "libbpf's headers are missing: add -I for the directory holding bpf/ (a libbpf build or checkout), or install libbpf-dev"
	case strings.HasPrefix(n, "asm/") || strings.HasPrefix(n, "bits/") || strings.HasPrefix(n, "gnu/") || strings.HasPrefix(n, "sys/"):
		return "clang -target bpf has no multiarch include directory: add -idirafter /usr/include/x86_64-linux-gnu (or your architecture's)"
	case strings.HasPrefix(n, "linux/"):
		return "kernel UAPI headers are missing: install linux-libc-dev, or add -I for the kernel's include/uapi"
	default:
		return "add its directory with -I (or -iquote for \"x.h\"), on the command line, in the editor settings, or in compile_commands.json / compile_flags.txt"
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
