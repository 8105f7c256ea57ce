package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// ParserOptions returns base (the command line's or the editor's options)
// with the config's compile flag edits. base's own flags keep precedence.
func (c *Config) ParserOptions(base cparse.Options) cparse.Options {
	if c == nil || c.Path == "" {
		return base
	}
	base.Edit = cparse.FlagEdit{Add: c.CompileFlags.Add, Remove: c.CompileFlags.Remove, Dir: c.Dir()}
	return base
}

// A Classifier decides which C files are BPF programs: a *.bpf.c name, a
// config glob, an entry built with -target bpf in the compile database
// (Base's, or the nearest), or, for a file that database does not name,
// its text and the project headers it includes (see isProgram). An entry
// without a BPF target makes the file user space whatever its text. It
// caches databases and headers; use one per run.
type Classifier struct {
	Configs *Cache
	// Base is the command line's or the editor's parser options: their
	// compile database names the files it builds, and their include flags
	// find project headers, as a parse would.
	Base    cparse.Options
	dbs     map[string]map[string]bool // database path -> file -> targets BPF
	headers map[string]*header         // by path: each header is read once
	parsers map[*Config]*cparse.Parser // the include flags of each config's files
	search  map[string]searchDirs      // by directory
}

// IsBPF reports whether file is a BPF program; src is its text (nil:
// read it from disk when needed).
func (cl *Classifier) IsBPF(file string, src []byte) bool {
	if strings.HasSuffix(file, ".bpf.c") {
		return true
	}
	cfg, _ := cl.Configs.For(file)
	if len(cfg.Files) > 0 && cfg.matchAny(cfg.Files, file) {
		return true
	}
	if bpf, named := cl.inDatabase(file); named {
		return bpf
	}
	if src == nil {
		// Never os.Open a workspace path directly: a FIFO would block.
		data, err := cparse.ReadRegular(file, 0)
		if err != nil {
			return false
		}
		src = data
	}
	return cl.isProgram(file, cfg, src)
}

// inDatabase looks for file in the compile database Base names (the
// parse's, too) or, when it names none, in the nearest
// compile_commands.json above file that names it (also in a build/
// subdirectory, as clangd looks).
func (cl *Classifier) inDatabase(file string) (bpf, named bool) {
	if cl.Base.CompileDB != "" {
		// One that cannot be found names no file; the parse reports it.
		path, err := cparse.ExplicitDatabase(cl.Base.CompileDB)
		if err != nil {
			return false, false
		}
		bpf, named = cl.database(path)[file]
		return bpf, named
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		for _, p := range []string{filepath.Join(dir, "compile_commands.json"), filepath.Join(dir, "build", "compile_commands.json")} {
			files := cl.database(p)
			if bpf, ok := files[file]; ok {
				return bpf, true
			}
		}
		if filepath.Dir(dir) == dir {
			return false, false
		}
	}
}

func (cl *Classifier) database(path string) map[string]bool {
	if files, ok := cl.dbs[path]; ok {
		return files
	}
	if cl.dbs == nil {
		cl.dbs = map[string]map[string]bool{}
	}
	files := map[string]bool{}
	// A database that cannot be read names no file; the parse reports it.
	if cmds, err := cparse.ReadCompileCommands(path); err == nil {
		for _, c := range cmds {
			files[c.File] = files[c.File] || cparse.TargetsBPF(c.Args)
		}
	}
	cl.dbs[path] = files
	return files
}

// Expand turns command-line paths into the files to check: a file is
// taken as it is; a directory means every BPF program below it (see
// Classifier), skipping hidden directories and node_modules. The result
// is in path order, without duplicates.
func (cl *Classifier) Expand(paths []string) ([]string, error) {
	seen := map[string]bool{}
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
			if !seen[abs] {
				seen[abs] = true
				files = append(files, abs)
			}
			continue
		}
		var found []string
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != abs && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".c") && !seen[path] && cl.IsBPF(path, nil) {
				seen[path] = true
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, &NoProgramsError{Dir: p}
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// NoProgramsError says a directory holds no BPF program.
type NoProgramsError struct{ Dir string }

func (e *NoProgramsError) Error() string {
	return e.Dir + ": no BPF programs here (*.bpf.c, a compile_commands.json entry built with -target bpf, " +
		"a file with SEC(\"...\") or including <bpf/bpf_helpers.h> directly or through its headers, or the files globs of " + FileName + ")"
}
