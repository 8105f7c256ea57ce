package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// listFlag collects a repeatable flag such as -I or -D.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseInterspersed parses flags that may appear before, between or after
// positional arguments (compilers accept "check a.c -I inc"), and splits the
// attached forms -Idir / -DNAME=V the way compilers write them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var split []string
	for _, a := range args {
		if len(a) > 2 && (strings.HasPrefix(a, "-I") || strings.HasPrefix(a, "-D") || strings.HasPrefix(a, "-U")) && !strings.Contains(a[:2], "=") {
			split = append(split, a[:2], a[2:])
			continue
		}
		split = append(split, a)
	}
	var pos []string
	for {
		if err := fs.Parse(split); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		split = rest[1:]
	}
}

// expandPaths turns the command line's paths into files: a directory means
// every *.bpf.c below it, in lexical order; a file is taken as it is.
func expandPaths(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, abs)
			continue
		}
		var found []string
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != abs && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".bpf.c") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *.bpf.c files in this directory", p)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// prints its usage to w.
func newFlagSet(name, synopsis string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: bpf-lsp %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
