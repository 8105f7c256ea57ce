package cparse

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// A trimmed vmlinux.h: the full header (~135k lines) costs over a second to
// translate, but a program uses a few hundred of its ~16k declarations.
// The index splits bpftool's output into its top-level declarations and
// records what each defines and needs; a parse then gets only the closure
// of what the program names, each declaration behind a #line directive so
// positions still point into the real vmlinux.h.

// vmDecl is one top-level declaration of vmlinux.h.
type vmDecl struct {
	Line       int      // 1-based first line
	Start, End int      // byte range
	Defines    []string // "struct x", "union x", "enum x", typedef and enumerator names
	Strong     []string // names it needs complete
	Weak       []string // "struct x" it needs only as a pointer target
	Forward    bool     // a forward declaration ("struct x;")
}

// vmIndex is the index of one vmlinux.h.
type vmIndex struct {
	// Trimmable is false when the text is not laid out as bpftool writes
	// it (directives and declarations in separate blank-line paragraphs),
	// so the paragraphs cannot be trusted to be whole declarations: such a
	// header is always served whole.
	Trimmable bool
	Decls     []vmDecl
	Preamble  int // byte offset where the first declaration starts
	Post      int // byte offset where the trailing #pragma/#endif start
	byName    map[string]int
}

var (
	vmTagRE   = regexp.MustCompile(`\b(struct|union|enum)\s+([A-Za-z_]\w*)(\s*\*)?`)
	vmIdentRE = regexp.MustCompile(`[A-Za-z_]\w*`)
	vmEnumRE  = regexp.MustCompile(`(?m)^\t([A-Za-z_]\w*)\s*(=|,)`)
	vmFuncPtr = regexp.MustCompile(`\(\s*\*+\s*([A-Za-z_]\w*)\s*\)\s*\(`)
	vmFuncTyp = regexp.MustCompile(`([A-Za-z_]\w*)\s*\([^()]*\)\s*;\s*$`)
	vmTypedef = regexp.MustCompile(`(?:\(\s*\*\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*))\s*(?:\[[^\]]*\]\s*)*(?:__attribute__\(\(.*\)\)\s*)?;\s*$`)
)

// buildVmIndex splits vmlinux.h text into declarations (bpftool separates
// them with blank lines, each starting in column 0).
func buildVmIndex(text []byte) *vmIndex {
	idx := &vmIndex{Preamble: -1, Post: len(text), Trimmable: true}
	line := 1
	for off := 0; off < len(text); {
		end := bytes.Index(text[off:], []byte("\n\n"))
		if end < 0 {
			end = len(text)
		} else {
			end += off + 1
		}
		para := text[off:end]
		trimmed := bytes.TrimSpace(para)
		if mixesDirectives(trimmed) {
			idx.Trimmable = false
		}
		switch {
		case len(trimmed) == 0:
		case trimmed[0] == '#':
			if idx.Preamble >= 0 && idx.Post == len(text) && len(idx.Decls) > 0 {
				idx.Post = off // the trailing #pragma pop / #endif
			}
		default:
			if idx.Preamble < 0 {
				idx.Preamble = off
			}
			idx.Decls = append(idx.Decls, parseVmDecl(para, off, line))
		}
		line += bytes.Count(text[off:min(end+1, len(text))], []byte{'\n'})
		off = end + 1
	}
	if idx.Preamble < 0 {
		idx.Preamble = 0
	}
	idx.index()
	return idx
}

// mixesDirectives reports a paragraph holding both preprocessor lines and
// C text (comments aside), which bpftool never writes.
func mixesDirectives(para []byte) bool {
	var directive, code bool
	for _, l := range bytes.Split(para, []byte{'\n'}) {
		l = bytes.TrimSpace(l)
		switch {
		case len(l) == 0 || bytes.HasPrefix(l, []byte("/*")) || bytes.HasPrefix(l, []byte("*")) || bytes.HasPrefix(l, []byte("//")):
		case l[0] == '#':
			directive = true
		default:
			code = true
		}
	}
	return directive && code
}

func (idx *vmIndex) index() {
	idx.byName = map[string]int{}
	for i, d := range idx.Decls {
		for _, n := range d.Defines {
			if prev, ok := idx.byName[n]; ok && !idx.Decls[prev].Forward && d.Forward {
				continue // keep the definition over a forward declaration
			}
			idx.byName[n] = i
		}
	}
}

func parseVmDecl(para []byte, off, line int) vmDecl {
	d := vmDecl{Line: line, Start: off, End: off + len(para)}
	s := string(bytes.TrimRight(para, "\n"))
	first, _, _ := strings.Cut(s, "\n")
	head := strings.Fields(first)
	if len(head) >= 2 && (head[0] == "struct" || head[0] == "union" || head[0] == "enum") {
		name := strings.TrimSuffix(head[1], ";")
		if name != "{" {
			d.Defines = append(d.Defines, head[0]+" "+name)
			d.Forward = strings.HasSuffix(head[1], ";")
		}
	}
	isTypedef := len(head) > 0 && head[0] == "typedef"
	if isTypedef {
		last := s[strings.LastIndex(s, "\n")+1:]
		if m := vmFuncPtr.FindStringSubmatch(s); m != nil && !strings.Contains(first, "{") {
			d.Defines = append(d.Defines, m[1]) // typedef int (*name)(...);
		} else if m := vmFuncTyp.FindStringSubmatch(last); m != nil && !strings.Contains(first, "{") {
			d.Defines = append(d.Defines, m[1]) // typedef void name(int);
		} else if m := vmTypedef.FindStringSubmatch(last); m != nil {
			d.Defines = append(d.Defines, m[1]+m[2])
		}
	}
	if strings.Contains(first, "enum") {
		for _, m := range vmEnumRE.FindAllStringSubmatch(s, -1) {
			d.Defines = append(d.Defines, m[1])
		}
	}
	if d.Forward {
		return d
	}
	seen := map[string]bool{}
	for _, m := range vmTagRE.FindAllStringSubmatch(s, -1) {
		name := m[1] + " " + m[2]
		if seen[name] || len(d.Defines) > 0 && d.Defines[0] == name {
			continue
		}
		seen[name] = true
		if m[3] != "" && m[1] != "enum" {
			d.Weak = append(d.Weak, name)
		} else {
			d.Strong = append(d.Strong, name)
		}
	}
	// Plain identifiers may be typedef names; resolved against the index.
	for _, id := range vmIdentRE.FindAllString(stripTags(s), -1) {
		if !seen[id] && !cKeyword[id] {
			seen[id] = true
			d.Strong = append(d.Strong, id)
		}
	}
	return d
}

// stripTags removes "struct x" / "union x" / "enum x" so the tag names are
// not taken for typedef names.
func stripTags(s string) string { return vmTagRE.ReplaceAllString(s, " ") }

var cKeyword = map[string]bool{"typedef": true, "struct": true, "union": true, "enum": true, "const": true,
	"volatile": true, "unsigned": true, "signed": true, "int": true, "char": true, "short": true, "long": true,
	"void": true, "float": true, "double": true, "_Bool": true, "__attribute__": true, "aligned": true,
	"packed": true, "preserve_access_index": true}

// trim returns the part of vmlinux.h that the identifiers in seeds need,
// with weak dependencies promoted to full definitions promote levels deep.
func (idx *vmIndex) trim(path string, text []byte, seeds map[string]bool, promote int) []byte {
	if !idx.Trimmable {
		return text
	}
	full := map[int]bool{}
	var queue []int
	want := func(name string) {
		if i, ok := idx.byName[name]; ok && !full[i] {
			full[i] = true
			queue = append(queue, i)
		}
	}
	closure := func() {
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			for _, n := range idx.Decls[i].Strong {
				want(n)
			}
		}
	}
	for s := range seeds {
		want(s)
	}
	closure()
	for range promote {
		var weak []string
		for i := range full {
			weak = append(weak, idx.Decls[i].Weak...)
		}
		for _, w := range weak {
			want(w)
		}
		closure()
	}
	forward := map[string]bool{}
	for i := range full {
		for _, w := range idx.Decls[i].Weak {
			if j, ok := idx.byName[w]; !ok || !full[j] {
				forward[w] = true
			}
		}
	}
	sel := make([]int, 0, len(full))
	for i := range full {
		sel = append(sel, i)
	}
	sort.Ints(sel)

	var b bytes.Buffer
	b.Write(text[:idx.Preamble])
	fwd := make([]string, 0, len(forward))
	for f := range forward {
		fwd = append(fwd, f)
	}
	sort.Strings(fwd)
	for _, f := range fwd {
		b.WriteString(f + ";\n")
	}
	for _, i := range sel {
		d := idx.Decls[i]
		fmt.Fprintf(&b, "#line %d %q\n", d.Line, path)
		b.Write(text[d.Start:d.End])
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "#line %d %q\n", 1+bytes.Count(text[:idx.Post], []byte{'\n'}), path)
	b.Write(text[idx.Post:])
	return b.Bytes()
}

// vmlinuxCache keeps vmlinux.h indexes in memory (by path, size and mtime)
// and on disk (by content hash), so only the first parse pays for indexing.
type vmlinuxCache struct {
	dir string
	mu  sync.Mutex
	mem map[string]*vmEntry
}

type vmEntry struct {
	size  int64
	mtime time.Time
	text  []byte
	idx   *vmIndex

	mu      sync.Mutex
	trimmed map[string][]byte // by seed set and promotion: edits rarely change them
}

// maxTrimmed bounds the memoised trimmed headers per vmlinux.h (under 1 MB
// each; the files being edited use one or two).
const maxTrimmed = 8

func newVmlinuxCache(dir string) *vmlinuxCache {
	if dir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(d, "bpf-lsp")
		}
	}
	return &vmlinuxCache{dir: dir, mem: map[string]*vmEntry{}}
}

// get returns the text and index of the vmlinux.h at path (data is its
// content as read).
func (c *vmlinuxCache) get(path string, data []byte) *vmEntry {
	st, err := os.Stat(path)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.mem[path]; ok && err == nil && e.size == st.Size() && e.mtime.Equal(st.ModTime()) && len(e.text) == len(data) {
		return e
	}
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:16])
	e := &vmEntry{text: data}
	if err == nil {
		e.size, e.mtime = st.Size(), st.ModTime()
	}
	if idx := c.load(key); idx != nil {
		e.idx = idx
	} else {
		e.idx = buildVmIndex(data)
		c.store(key, e.idx)
	}
	c.mem[path] = e
	return e
}

func (c *vmlinuxCache) file(key string) string {
	return filepath.Join(c.dir, "vmlinux-v2-"+key+".idx") // v2: Trimmable
}

func (c *vmlinuxCache) load(key string) *vmIndex {
	if c.dir == "" {
		return nil
	}
	f, err := os.Open(c.file(key))
	if err != nil {
		return nil
	}
	defer f.Close()
	var idx vmIndex
	if err := gob.NewDecoder(f).Decode(&idx); err != nil {
		return nil
	}
	idx.index()
	return &idx
}

func (c *vmlinuxCache) store(key string, idx *vmIndex) {
	if c.dir == "" || os.MkdirAll(c.dir, 0o755) != nil {
		return
	}
	tmp, err := os.CreateTemp(c.dir, "vmlinux-*.tmp")
	if err != nil {
		return
	}
	if gob.NewEncoder(tmp).Encode(idx) == nil && tmp.Close() == nil {
		os.Rename(tmp.Name(), c.file(key)) // atomic: concurrent writers race harmlessly
		return
	}
	tmp.Close()
	os.Remove(tmp.Name())
}

// trimmer returns the function the overlay serves vmlinux.h through: the
// closure of the declarations named by seeds.
func (c *vmlinuxCache) trimmer(seeds map[string]bool, promote int) func(string, []byte) []byte {
	keys := make([]string, 0, len(seeds))
	for s := range seeds {
		keys = append(keys, s)
	}
	sort.Strings(keys)
	sum := sha256.Sum256([]byte(fmt.Sprint(promote, keys)))
	memo := string(sum[:])
	return func(path string, data []byte) []byte {
		e := c.get(path, data)
		e.mu.Lock()
		defer e.mu.Unlock()
		if out, ok := e.trimmed[memo]; ok {
			return out
		}
		out := e.idx.trim(path, e.text, seeds, promote)
		if e.trimmed == nil || len(e.trimmed) >= maxTrimmed {
			e.trimmed = map[string][]byte{}
		}
		e.trimmed[memo] = out
		return out
	}
}

// defines reports whether any vmlinux.h indexed so far declares name (a
// tag such as "struct x", a typedef, an enumerator).
func (c *vmlinuxCache) defines(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.mem {
		if _, ok := e.idx.byName[name]; ok {
			return true
		}
	}
	return false
}
