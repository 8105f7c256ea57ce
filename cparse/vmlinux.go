package cparse

// vmlinuxCache holds the index of vmlinux.h files (see trim.go).
type vmlinuxCache struct {
	dir string
}

func newVmlinuxCache(dir string) *vmlinuxCache { return &vmlinuxCache{dir: dir} }

// trimmer returns the function the overlay uses to serve vmlinux.h for the
// main file mainSrc.
func (c *vmlinuxCache) trimmer(mainPath string, mainSrc []byte) func(string, []byte) []byte {
	return nil
}
