package cparse

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// overlayFS is what cc/v4 reads every file through (Config.FSOnly: never
// the disk directly). It serves, in order: the stand-in for a missing
// header, the editor's unsaved buffers, a trimmed vmlinux.h, and disk files
// (regular files only, size-capped, GNU named-variadic macros rewritten
// because cc/v4 mis-expands `args...`/`##args`). Headers are wrapped in the
// include markers (include.go). A cancelled context fails every open, so a
// superseded parse stops at its next #include.
type overlayFS struct {
	ctx     context.Context
	files   map[string][]byte // unsaved buffers, by absolute path
	headers *headerCache
	vmlinux func(path string, text []byte) []byte // trims vmlinux.h; nil = serve as is
	// serveAs, when set, replaces the text of every header, vmlinux.h
	// included: it sees the name cc/v4 asked for, the path read and its
	// text (the header pass in seeds.go serves preprocessor lines only).
	serveAs func(name, real string, text []byte) []byte
	inc     *includeState
	reads   *[]headerRead // every file served, when non-nil (a preamble's dependencies)
	count   *atomic.Int64 // counts the files served, when non-nil
}

// headerRead is one file an overlayFS served: its path and the text read
// (before vmlinux.h trimming), from the editor's buffers or the header cache.
type headerRead struct {
	path    string
	data    []byte
	overlay bool
}

func (o *overlayFS) Open(name string) (fs.File, error) {
	if err := o.ctx.Err(); err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	name = filepath.Clean(name)
	if strings.HasPrefix(name, missingRoot+"/") {
		return &missingFile{memFile: newMemFile(name, missingText)}, nil
	}
	real, ok := o.inc.resolve(name)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	data, ok := o.files[real]
	var err error
	if ok {
		err = checkNesting(data)
	} else {
		data, err = o.headers.read(real)
	}
	if err != nil {
		if !isNotExist(err) {
			o.inc.failed[name] = err
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if o.reads != nil {
		*o.reads = append(*o.reads, headerRead{path: real, data: data, overlay: ok})
	}
	if o.count != nil {
		o.count.Add(1)
	}
	switch {
	case o.serveAs != nil:
		data = o.serveAs(name, real, data)
	case o.vmlinux != nil && filepath.Base(name) == "vmlinux.h":
		data = o.vmlinux(name, data)
	}
	o.inc.serve(name, real, data, len(headerPrefix))
	return newMemFile(name, servedText(data)), nil
}

// missingFile is the stand-in for a missing header: an #include reads its
// pragma, while __has_include (which only stats it) sees a directory, that
// is, no such header.
type missingFile struct{ *memFile }

func (f *missingFile) Stat() (fs.FileInfo, error) {
	info := f.memFile.info
	info.dir = true
	return info, nil
}

// headerCache keeps disk files (as served: variadic macros rewritten) keyed
// by path, size and modification time, shared by all parses of a Parser.
type headerCache struct {
	maxSize int64
	mu      sync.Mutex
	entries map[string]cachedFile
}

type cachedFile struct {
	size  int64
	mtime time.Time
	data  []byte
	err   error // a header too deeply nested to hand to cc/v4
}

func (h *headerCache) read(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
	}
	h.mu.Lock()
	e, ok := h.entries[path]
	h.mu.Unlock()
	if ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.data, e.err
	}
	data, err := readRegular(path, h.maxSize)
	if err != nil {
		return nil, err
	}
	data = rewriteHeader(data)
	err = checkNesting(data)
	h.mu.Lock()
	if h.entries == nil {
		h.entries = map[string]cachedFile{}
	}
	h.entries[path] = cachedFile{size: st.Size(), mtime: st.ModTime(), data: data, err: err}
	h.mu.Unlock()
	return data, err
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
	dir  bool
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
