package cparse

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// overlayFS is what cc/v4 reads every file through (it asks with absolute
// paths). It serves, in order: the editor's unsaved buffers, empty stand-ins
// for headers that are missing (so one missing #include does not stop the
// whole parse), a trimmed vmlinux.h, and disk files with GNU named-variadic
// macros rewritten (cc/v4 mis-expands `args...`/`##args`).
type overlayFS struct {
	files   map[string][]byte // unsaved buffers and stand-ins, by absolute path
	headers *headerCache
	vmlinux func(path string, text []byte) []byte // trims vmlinux.h; nil = serve as is
	opened  map[string][]byte                     // headers served from disk, when non-nil
}

func (o *overlayFS) Open(name string) (fs.File, error) {
	name = filepath.Clean(name)
	if data, ok := o.files[name]; ok {
		return newMemFile(name, data), nil
	}
	data, err := o.headers.read(name)
	if err != nil {
		return nil, err
	}
	if o.vmlinux != nil && filepath.Base(name) == "vmlinux.h" {
		data = o.vmlinux(name, data)
	} else if o.opened != nil {
		o.opened[name] = data
	}
	return newMemFile(name, data), nil
}

// headerCache keeps disk files (as served: variadic macros rewritten) keyed
// by path, size and modification time, shared by all parses of a Parser.
type headerCache struct {
	mu      sync.Mutex
	entries map[string]cachedFile
}

type cachedFile struct {
	size  int64
	mtime time.Time
	data  []byte
}

func (h *headerCache) read(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrInvalid}
	}
	h.mu.Lock()
	e, ok := h.entries[path]
	h.mu.Unlock()
	if ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.data, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data = rewriteNamedVariadics(data)
	h.mu.Lock()
	if h.entries == nil {
		h.entries = map[string]cachedFile{}
	}
	h.entries[path] = cachedFile{size: st.Size(), mtime: st.ModTime(), data: data}
	h.mu.Unlock()
	return data, nil
}

// namedVariadic finds a function-like #define whose last parameter is a GNU
// named variadic ("args..."), possibly continued over several lines.
var namedVariadic = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*define[ \t]+[A-Za-z_]\w*\(([^()]*?)\b([A-Za-z_]\w*)[ \t]*\.\.\.\)((?:[^\n]*\\\n)*[^\n]*)`)

// rewriteNamedVariadics turns `#define F(fmt, args...) g(fmt, ##args)` into
// `#define F(fmt, ...) g(fmt, ##__VA_ARGS__)`, which means the same to clang
// and which cc/v4 expands correctly. Line structure is kept, so positions in
// the header stay right except for columns inside the rewritten macros.
func rewriteNamedVariadics(src []byte) []byte {
	if !bytes.Contains(src, []byte("...)")) {
		return src
	}
	return namedVariadic.ReplaceAllFunc(src, func(def []byte) []byte {
		m := namedVariadic.FindSubmatchIndex(def)
		name := string(def[m[4]:m[5]])
		body := def[m[6]:m[7]]
		word := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`)
		var out []byte
		out = append(out, def[:m[4]]...)
		out = append(out, "...)"...)
		out = append(out, word.ReplaceAll(body, []byte("__VA_ARGS__"))...)
		return out
	})
}

// memFile is an fs.File over bytes.
type memFile struct {
	*bytes.Reader
	info memInfo
}

func newMemFile(name string, data []byte) *memFile {
	return &memFile{Reader: bytes.NewReader(data), info: memInfo{name: filepath.Base(name), size: int64(len(data))}}
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

var _ io.ReaderAt = (*memFile)(nil)

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
