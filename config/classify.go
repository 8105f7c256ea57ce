package config

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Telling a BPF program from host code without parsing it.
//
// A file that names a BPF-only header (libbpf's BPF-side headers or
// vmlinux.h) is a BPF program. Otherwise a host mark in its own text wins:
// a main function, libbpf's user-space API, a generated skeleton,
// stdio/stdlib/pthread, or a kernel module's <linux/module.h>. Then its
// own BPF marks decide, and failing those the headers it includes,
// followed through the project's headers (many programs get bpf_helpers.h
// only through a project header such as bpf_misc.h): the first header, in
// the order the preprocessor meets them level by level, with marks of one
// side only decides. A header with both has them under #if (shared by
// both sides) and is passed through.
//
// A BPF mark is a section attribute (SEC, __section, section) naming a
// program type ("xdp", "license", "kprobe/...") or libbpf's .maps and
// .struct_ops. Other dotted names are not marks: user space puts its
// USDT semaphores in SEC(".probes").
var (
	bpfMark = regexp.MustCompile(`\b(?:SEC|__section|section)[ \t]*\([ \t]*"(?:[^".]|\.maps"|\.struct_ops)`)
	mainDef = regexp.MustCompile(`^[ \t]*(?:[A-Za-z_]\w*[ \t*]+)*main[ \t]*\([^;{)]*\)[ \t\n]*\{`)
)

// marks are what a text says of itself.
type marks struct {
	bpfHeader bool // includes a BPF-only header
	host      bool // a host mark
	bpf       bool // a BPF section attribute
	includes  []include
}

type include struct {
	name  string
	angle bool
}

// scan reads src's marks in one pass over its lines; the regular
// expressions only see the few lines a cheap test picks (the directory
// walk reads every .c file of a tree, user space included).
func scan(src []byte) marks {
	var m marks
	for start := 0; start < len(src); {
		end := len(src)
		if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
			end = start + i
		}
		line := src[start:end]
		from := start // a definition may span lines: match from its first
		start = end + 1
		if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && t[0] == '#' {
			if inc, ok := includeOf(t[1:]); ok {
				m.includes = append(m.includes, inc)
				m.bpfHeader = m.bpfHeader || bpfHeaders[path.Base(inc.name)]
				m.host = m.host || hostHeaders[inc.name] || strings.HasSuffix(inc.name, "skel.h")
			}
			continue
		}
		if !m.bpf && (bytes.Contains(line, []byte("SEC")) || bytes.Contains(line, []byte("section"))) {
			m.bpf = bpfMark.Match(line)
		}
		if !m.host && bytes.Contains(line, []byte("main")) {
			m.host = mainDef.Match(src[from:])
		}
	}
	return m
}

// Bounds of the header walk: project headers are few and shallow; a file
// whose BPF side is deeper than this is better named by a config glob.
const (
	maxWalkDepth   = 8
	maxWalkHeaders = 64
	maxHeaderSize  = 1 << 20 // a project header; vmlinux.h is known by name, not read
)

// header is what the classifier keeps of one header's text.
type header struct {
	side     side
	includes []include // in order
}

// bpfHeaders are the headers only BPF programs include, by base name
// (projects vendor libbpf's under other directories).
var bpfHeaders = map[string]bool{"bpf_helpers.h": true, "bpf_tracing.h": true, "bpf_core_read.h": true, "vmlinux.h": true}

// hostHeaders are headers of user space (and the kernel's module API)
// that BPF programs never include. A name ending in skel.h (bpftool's
// .skel.h, .lskel.h, .subskel.h) is a skeleton, user space too.
var hostHeaders = map[string]bool{"stdio.h": true, "stdlib.h": true, "pthread.h": true,
	"bpf/libbpf.h": true, "bpf/bpf.h": true, "linux/module.h": true}

// includeOf reads the directive after a line's '#': the name of an
// #include of "x.h" or <x.h>.
func includeOf(d []byte) (include, bool) {
	d = bytes.TrimLeft(d, " \t")
	rest, ok := bytes.CutPrefix(d, []byte("include"))
	if !ok {
		return include{}, false
	}
	rest = bytes.TrimLeft(rest, " \t")
	if len(rest) < 2 || (rest[0] != '"' && rest[0] != '<') {
		return include{}, false // #include_next, #include MACRO
	}
	closing := byte('"')
	if rest[0] == '<' {
		closing = '>'
	}
	end := bytes.IndexByte(rest[1:], closing)
	if end <= 0 {
		return include{}, false
	}
	return include{name: string(rest[1 : 1+end]), angle: closing == '>'}, true
}

// side says which side a text's own marks are for.
type side int

const (
	neither side = iota // no marks, or marks of both sides
	bpfSide
	hostSide
)

func (m marks) side() side {
	bpf := m.bpfHeader || m.bpf
	switch {
	case bpf && !m.host:
		return bpfSide
	case m.host && !bpf:
		return hostSide
	}
	return neither
}

// isProgram decides from file's text src and, when that is not enough,
// from the headers it includes.
func (cl *Classifier) isProgram(file string, cfg *Config, src []byte) bool {
	m := scan(src)
	switch {
	case m.bpfHeader:
		return true
	case m.host:
		return false
	case m.bpf:
		return true
	}
	return cl.includesBPF(file, cfg, m.includes)
}

// includesBPF walks the headers that file includes, breadth first,
// resolving names with the file's include flags (those its parse would
// use), and reports whether the first header of one side is BPF's.
func (cl *Classifier) includesBPF(file string, cfg *Config, includes []include) bool {
	if len(includes) == 0 {
		return false
	}
	quoted, angle := cl.searchDirs(file, cfg)
	type pending struct {
		dir      string // the includer's directory
		includes []include
	}
	level := []pending{{filepath.Dir(file), includes}}
	visited := map[string]bool{}
	for depth := 0; depth < maxWalkDepth && len(level) > 0; depth++ {
		var next []pending
		for _, p := range level {
			for _, inc := range p.includes {
				name := resolve(inc, p.dir, quoted, angle)
				if name == "" || visited[name] {
					continue
				}
				if len(visited) == maxWalkHeaders {
					return false
				}
				visited[name] = true
				h := cl.header(name)
				if h.side != neither {
					return h.side == bpfSide
				}
				next = append(next, pending{filepath.Dir(name), h.includes})
			}
		}
		level = next
	}
	return false
}

// searchDirs returns the include search of file, whose config is cfg: the
// Base flags, the config's added flags and the compile database's, as
// cparse resolves them for a parse. It is kept by directory: the .c files
// of one directory that no database names get the same flags.
func (cl *Classifier) searchDirs(file string, cfg *Config) (quoted, angle []string) {
	dir := filepath.Dir(file)
	if s, ok := cl.search[dir]; ok {
		return s.quoted, s.angle
	}
	p, ok := cl.parsers[cfg]
	if !ok {
		if cl.parsers == nil {
			cl.parsers = map[*Config]*cparse.Parser{}
		}
		p = cparse.NewParser(cfg.ParserOptions(cl.Base))
		cl.parsers[cfg] = p
	}
	quoted, angle = cparse.SearchDirs(p.CompileFlags(file).Args, dir)
	if cl.search == nil {
		cl.search = map[string]searchDirs{}
	}
	cl.search[dir] = searchDirs{quoted, angle}
	return quoted, angle
}

type searchDirs struct{ quoted, angle []string }

// resolve finds the regular file inc names, as the preprocessor would
// from an includer in dir; "" when there is none.
func resolve(inc include, dir string, quoted, angle []string) string {
	if filepath.IsAbs(inc.name) {
		return regular(filepath.Clean(inc.name))
	}
	dirs := angle
	if !inc.angle {
		dirs = append([]string{dir}, quoted...)
	}
	for _, d := range dirs {
		if p := regular(filepath.Join(d, inc.name)); p != "" {
			return p
		}
	}
	return ""
}

func regular(name string) string {
	if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
		return name
	}
	return ""
}

// header reads and scans the header name once per Classifier; an unreadable or
// oversized header counts as one without marks or includes.
func (cl *Classifier) header(name string) *header {
	if h, ok := cl.headers[name]; ok {
		return h
	}
	if cl.headers == nil {
		cl.headers = map[string]*header{}
	}
	h := &header{}
	if src, err := cparse.ReadRegular(name, maxHeaderSize); err == nil {
		m := scan(src)
		h = &header{side: m.side(), includes: m.includes}
	}
	cl.headers[name] = h
	return h
}
