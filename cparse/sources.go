package cparse

// Headers returns the text of every file the translation read besides the
// main file (project and system headers, the vmlinux.h served), by path.
// With the main file's text and the flags they are all the AST depends on:
// the analysis keys its per-function results on them.
func (f *File) Headers() map[string][]byte {
	f.src.mu.Lock()
	defer f.src.mu.Unlock()
	out := make(map[string][]byte, len(f.src.names))
	for _, n := range f.src.names {
		if n.display != f.Path {
			out[n.display] = f.src.files[n.display]
		}
	}
	return out
}
