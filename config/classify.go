package config

import (
	"os"
	"path/filepath"
	"regexp"

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
	bpfHeader = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*include[ \t]*[<"](?:[^">\n]*/)?(?:bpf_helpers|bpf_tracing|bpf_core_read|vmlinux)\.h[>"]`)
	bpfMark   = regexp.MustCompile(`\b(?:SEC|__section|section)[ \t]*\([ \t]*"(?:[^".]|\.maps"|\.struct_ops)`)
	hostMark  = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*include[ \t]*[<"](?:stdio\.h|stdlib\.h|pthread\.h|bpf/libbpf\.h|bpf/bpf\.h|linux/module\.h|[^">\n]*\.(?:l|sub)?skel\.h)[>"]` +
		`|^[ \t]*(?:[A-Za-z_]\w*[ \t*]+)*main[ \t]*\([^;{)]*\)[ \t\n]*\{`)
	includeLine = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*include[ \t]*(?:"([^"\n]+)"|<([^>\n]+)>)`)
)

// Bounds of the header walk: project headers are few and shallow; a file
// whose BPF side is deeper than this is better named by a config glob.
const (
	maxWalkDepth   = 8
	maxWalkHeaders = 64
	maxHeaderSize  = 1 << 20 // vmlinux.h is recognised by name, never read
)

// header is what the classifier keeps of one header's text.
type header struct {
	side     side
	includes []include // in order
}

// side says which side a text's own marks are for.
type side int

const (
	neither side = iota // no marks, or marks of both sides
	bpfSide
	hostSide
)

func sideOf(src []byte) side {
	bpf := bpfHeader.Match(src) || bpfMark.Match(src)
	host := hostMark.Match(src)
	switch {
	case bpf && !host:
		return bpfSide
	case host && !bpf:
		return hostSide
	}
	return neither
}

type include struct {
	name  string
	angle bool
}

// includesOf lists the #include lines of src; those naming a macro are
// left out.
func includesOf(src []byte) []include {
	var out []include
	for _, m := range includeLine.FindAllSubmatch(src, -1) {
		if m[1] != nil {
			out = append(out, include{name: string(m[1])})
		} else {
			out = append(out, include{name: string(m[2]), angle: true})
		}
	}
	return out
}

// isProgram decides from file's text src and, when that is not enough,
// from the headers it includes.
func (cl *Classifier) isProgram(file string, src []byte) bool {
	switch {
	case bpfHeader.Match(src):
		return true
	case hostMark.Match(src):
		return false
	case bpfMark.Match(src):
		return true
	}
	return cl.includesBPF(file, includesOf(src))
}

// includesBPF walks the headers that file includes, breadth first,
// resolving names with the file's include flags (those its parse would
// use), and reports whether the first header of one side is BPF's.
func (cl *Classifier) includesBPF(file string, includes []include) bool {
	if len(includes) == 0 {
		return false
	}
	quoted, angle := cl.searchDirs(file)
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
				path := resolve(inc, p.dir, quoted, angle)
				if path == "" || visited[path] {
					continue
				}
				if len(visited) == maxWalkHeaders {
					return false
				}
				visited[path] = true
				h := cl.header(path)
				if h.side != neither {
					return h.side == bpfSide
				}
				next = append(next, pending{filepath.Dir(path), h.includes})
			}
		}
		level = next
	}
	return false
}

// searchDirs returns the include search of file: its config's added flags
// and its compile database's, as cparse resolves them for a parse.
func (cl *Classifier) searchDirs(file string) (quoted, angle []string) {
	cfg, _ := cl.Configs.For(file)
	p, ok := cl.parsers[cfg]
	if !ok {
		if cl.parsers == nil {
			cl.parsers = map[*Config]*cparse.Parser{}
		}
		p = cparse.NewParser(cfg.ParserOptions(cparse.Options{}))
		cl.parsers[cfg] = p
	}
	return cparse.SearchDirs(p.CompileFlags(file).Args, filepath.Dir(file))
}

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

func regular(path string) string {
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return path
	}
	return ""
}

// header reads and scans path once per Classifier; an unreadable or
// oversized header counts as one without marks or includes.
func (cl *Classifier) header(path string) *header {
	if h, ok := cl.headers[path]; ok {
		return h
	}
	if cl.headers == nil {
		cl.headers = map[string]*header{}
	}
	h := &header{}
	if src, err := cparse.ReadRegular(path, maxHeaderSize); err == nil {
		h = &header{side: sideOf(src), includes: includesOf(src)}
	}
	cl.headers[path] = h
	return h
}
