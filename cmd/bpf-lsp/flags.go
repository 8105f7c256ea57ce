package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/cparse"
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
		split = append(split, splitAttached(a)...)
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

// attachedFlags are the compiler flags whose value may be glued to them
// ("-Iinc", "-isystemdir"), longest first so -isystem is not read as -I.
var attachedFlags = []string{"-idirafter", "-isystem", "-include", "-iquote", "-I", "-D", "-U"}

// splitAttached splits "-Idir" into "-I", "dir" the way compilers read it.
func splitAttached(a string) []string {
	for _, f := range attachedFlags {
		if v, ok := strings.CutPrefix(a, f); ok && v != "" && !strings.HasPrefix(v, "=") {
			return []string{f, v}
		}
	}
	return []string{a}
}

// parseArgs parses a subcommand's arguments; when ok is false the command
// ends with exit code (0 after -h, 2 for a usage error, already reported).
func parseArgs(fs *flag.FlagSet, args []string) (paths []string, code int, ok bool) {
	paths, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, 0, false
	case err != nil:
		return nil, 2, false
	}
	return paths, 0, true
}

// cFlags are the preprocessor flags check, verify and serve share. They
// mean what they mean to clang, and come before the compile database's.
type cFlags struct {
	includes, quotes, systems, afters, forced, defines, undefines listFlag
	sysroot                                                       string
}

func (c *cFlags) register(fs *flag.FlagSet) {
	fs.Var(&c.includes, "I", "add `dir` to the search path for both \"x.h\" and <x.h>")
	fs.Var(&c.quotes, "iquote", "add `dir` to the search path for \"x.h\" only")
	fs.Var(&c.systems, "isystem", "add `dir` before the system include directories")
	fs.Var(&c.afters, "idirafter", "add `dir` after the system include directories")
	fs.Var(&c.forced, "include", "include `file` before the source, as clang -include does")
	fs.StringVar(&c.sysroot, "sysroot", "", "prefix the system include directories with `dir`")
	fs.Var(&c.defines, "D", "define macro `name[=value]`")
	fs.Var(&c.undefines, "U", "undefine macro `name`")
}

// parserOptions returns the cparse options for these flags.
func (c *cFlags) parserOptions(compileDB string) cparse.Options {
	return cparse.Options{IncludeDirs: c.includes, QuoteDirs: c.quotes, SystemDirs: c.systems, AfterDirs: c.afters,
		ForcedHeaders: c.forced, Sysroot: c.sysroot, Defines: c.defines, Undefines: c.undefines, CompileDB: compileDB}
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
