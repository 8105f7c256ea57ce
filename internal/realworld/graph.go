package realworld

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// graphTimeout bounds the parse that builds one file's call graph.
const graphTimeout = time.Minute

// callGraph parses s with cparse (with the flags the check got) and returns
// the calls between its functions, for charging a finding in a helper to
// the programs that reach it.
func callGraph(ctx context.Context, s Source, programs []string) (g CallGraph, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parse for the call graph: panic: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, graphTimeout)
	defer cancel()
	f, err := cparse.NewParser(parserOptions(s)).Parse(ctx, s.Path, nil)
	if err != nil {
		return CallGraph{}, fmt.Errorf("parse for the call graph: %w", err)
	}
	g = CallGraph{Programs: programs, Calls: map[string][]string{}}
	for _, fn := range f.Funcs {
		for _, c := range fn.Calls {
			if f.Func(c.Name) != nil {
				g.Calls[fn.Name] = append(g.Calls[fn.Name], c.Name)
			}
			for _, a := range c.Args { // callbacks: bpf_loop(n, cb, ...), bpf_rbtree_add(.., less)
				if name := strings.TrimSpace(a.Text); f.Func(name) != nil {
					g.Calls[fn.Name] = append(g.Calls[fn.Name], name)
				}
			}
		}
	}
	return g, nil
}

// parserOptions turns the source's preprocessor flags into cparse options,
// as the CLI does for its own flags, with directories made absolute against
// the Makefile's directory.
func parserOptions(s Source) cparse.Options {
	var o cparse.Options
	dirs := map[string]*[]string{"-I": &o.IncludeDirs, "-iquote": &o.QuoteDirs, "-isystem": &o.SystemDirs, "-idirafter": &o.AfterDirs, "-include": &o.ForcedHeaders}
	flags := PreprocessorFlags(s.Flags, func(string) bool { return true })
	for i := 0; i < len(flags); i++ {
		name, val := flags[i], ""
		if _, ok := dirs[name]; !ok && len(name) > 2 {
			name, val = name[:2], name[2:] // -Idir, -DNAME=V
		}
		if val == "" && i+1 < len(flags) {
			i++
			val = flags[i]
		}
		switch name {
		case "-D":
			o.Defines = append(o.Defines, val)
		case "-U":
			o.Undefines = append(o.Undefines, val)
		default:
			if !filepath.IsAbs(val) {
				val = filepath.Join(s.Dir, val)
			}
			*dirs[name] = append(*dirs[name], val)
		}
	}
	return o
}
