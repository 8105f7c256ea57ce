package cparse

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// flagSet is what bpf-lsp takes from a compile command: the parts of it
// that change how a file preprocesses, in the order clang searches them.
// Everything else (-O2, -g, -target) is irrelevant to parsing and ignored.
type flagSet struct {
	Quote     []string // -iquote: searched for "x.h" only, after the includer's directory
	Includes  []string // -I: searched for both "x.h" and <x.h>
	System    []string // -isystem: before the default system directories
	After     []string // -idirafter: after them
	Sysroot   string   // --sysroot: prefixes the default system directories
	NoStdInc  bool     // -nostdinc: no default system directories
	Defines   []string // NAME or NAME=VALUE
	Undefines []string
	Forced    []string // -include, in order
	Source    string   // where the flags came from, for logs ("" = nowhere)
}

// parseFlags extracts include paths and macros from compiler arguments;
// relative paths are resolved against dir.
func parseFlags(args []string, dir string) flagSet {
	var fs flagSet
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		// value returns the flag's argument, attached ("-Ifoo", "--sysroot=x")
		// or separate ("-I foo").
		value := func(flag string) (string, bool) {
			if a == flag {
				if i+1 < len(args) {
					i++
					return args[i], true
				}
				return "", false
			}
			if v, ok := strings.CutPrefix(a, flag); ok {
				return strings.TrimPrefix(v, "="), v != ""
			}
			return "", false
		}
		// Longer spellings first: -isystem and -include start like -I.
		switch {
		case a == "-nostdinc" || a == "--no-standard-includes":
			fs.NoStdInc = true
		case strings.HasPrefix(a, "-iquote"):
			if v, ok := value("-iquote"); ok {
				fs.Quote = append(fs.Quote, abs(v))
			}
		case strings.HasPrefix(a, "-isystem"):
			if v, ok := value("-isystem"); ok {
				fs.System = append(fs.System, abs(v))
			}
		case strings.HasPrefix(a, "-idirafter"):
			if v, ok := value("-idirafter"); ok {
				fs.After = append(fs.After, abs(v))
			}
		case strings.HasPrefix(a, "-include"):
			if v, ok := value("-include"); ok {
				fs.Forced = append(fs.Forced, abs(v))
			}
		case strings.HasPrefix(a, "--sysroot"):
			if v, ok := value("--sysroot"); ok {
				fs.Sysroot = abs(v)
			}
		case strings.HasPrefix(a, "-I"):
			if v, ok := value("-I"); ok {
				fs.Includes = append(fs.Includes, abs(v))
			}
		case strings.HasPrefix(a, "-D"):
			if v, ok := value("-D"); ok && v != "" {
				fs.Defines = append(fs.Defines, v)
			}
		case strings.HasPrefix(a, "-U"):
			if v, ok := value("-U"); ok && v != "" {
				fs.Undefines = append(fs.Undefines, v)
			}
		}
	}
	return fs
}

// merge returns fs's flags followed by db's in each category, as clang sees
// `cmd <fs flags> <db flags>`; a sysroot of fs wins.
func (fs flagSet) merge(db flagSet) flagSet {
	cat := func(a, b []string) []string { return append(append([]string{}, a...), b...) }
	out := flagSet{
		Quote: cat(fs.Quote, db.Quote), Includes: cat(fs.Includes, db.Includes),
		System: cat(fs.System, db.System), After: cat(fs.After, db.After),
		Sysroot: fs.Sysroot, NoStdInc: fs.NoStdInc || db.NoStdInc,
		Defines: cat(db.Defines, fs.Defines), Undefines: cat(db.Undefines, fs.Undefines),
		Forced: cat(fs.Forced, db.Forced), Source: db.Source,
	}
	if out.Sysroot == "" {
		out.Sysroot = db.Sysroot
	}
	return out
}

// args renders flags as clang arguments, so the verifier compiles with the
// include search and macros the parse used.
func (fs flagSet) args() []string {
	var a []string
	if fs.Sysroot != "" {
		a = append(a, "--sysroot="+fs.Sysroot)
	}
	if fs.NoStdInc {
		a = append(a, "-nostdinc")
	}
	for _, d := range fs.Quote {
		a = append(a, "-iquote", d)
	}
	for _, d := range fs.Includes {
		a = append(a, "-I"+d)
	}
	for _, d := range fs.System {
		a = append(a, "-isystem", d)
	}
	for _, d := range fs.After {
		a = append(a, "-idirafter", d)
	}
	for _, d := range fs.Defines {
		a = append(a, "-D"+d)
	}
	for _, u := range fs.Undefines {
		a = append(a, "-U"+u)
	}
	for _, h := range fs.Forced {
		a = append(a, "-include", h)
	}
	return a
}

// compileEntry is one object of compile_commands.json.
type compileEntry struct {
	Directory string   `json:"directory"`
	File      string   `json:"file"`
	Command   string   `json:"command"`
	Arguments []string `json:"arguments"`
}

// database is a loaded compile_commands.json or flags file.
type database struct {
	path    string
	flags   *flagSet        // a flags file: the same flags for every file below it
	entries []databaseEntry // a compile_commands.json
}

type databaseEntry struct {
	file  string // absolute, cleaned
	flags flagSet
}

// dbCache keeps parsed databases by path, size and modification time: a
// compile_commands.json is read once, not on every keystroke.
type dbCache struct {
	maxSize int64
	mu      sync.Mutex
	entries map[string]dbCached
}

type dbCached struct {
	size  int64
	mtime time.Time
	db    *database
	err   error
}

// load reads the database at path, telling JSON from a flags file by its
// content (a JSON array starts with '['), never by its name.
func (c *dbCache) load(path string) (*database, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("compile database: %w", err)
	}
	c.mu.Lock()
	e, ok := c.entries[path]
	c.mu.Unlock()
	if ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.db, e.err
	}
	db, err := parseDatabase(path, c.maxSize)
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]dbCached{}
	}
	c.entries[path] = dbCached{size: st.Size(), mtime: st.ModTime(), db: db, err: err}
	c.mu.Unlock()
	return db, err
}

func parseDatabase(path string, maxSize int64) (*database, error) {
	data, err := readRegular(path, maxSize)
	if err != nil {
		return nil, fmt.Errorf("compile database: %w", err)
	}
	dir := filepath.Dir(path)
	if trimmed := bytes.TrimSpace(data); !bytes.HasPrefix(trimmed, []byte("[")) {
		// compile_flags.txt: one argument per line, for every file below it.
		var args []string
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				args = append(args, line)
			}
		}
		fs := parseFlags(args, dir)
		return &database{path: path, flags: &fs}, nil
	}
	cmds, err := decodeCompileCommands(path, data)
	if err != nil {
		return nil, fmt.Errorf("compile database %w", err)
	}
	db := &database{path: path}
	for _, c := range cmds {
		db.entries = append(db.entries, databaseEntry{file: c.File, flags: parseFlags(c.Args, c.Directory)})
	}
	return db, nil
}

// flagsFor returns the flags for file: its own entry, or, for a file the
// database does not list, those of the nearest entry (same directory first,
// then the longest common directory prefix), as clangd does. ok is false
// when the database has no entries.
func (db *database) flagsFor(file string) (flagSet, bool) {
	if db.flags != nil {
		fs := *db.flags
		fs.Source = db.path
		return fs, true
	}
	best, bestScore := -1, -1
	for i, e := range db.entries {
		if e.file == file {
			fs := e.flags
			fs.Source = db.path
			return fs, true
		}
		if s := pathAffinity(file, e.file); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best < 0 {
		return flagSet{}, false
	}
	fs := db.entries[best].flags
	fs.Source = fmt.Sprintf("borrowed from %s in %s", db.entries[best].file, db.path)
	return fs, true
}

// pathAffinity scores how close entry is to file: the number of leading
// directory components they share, with a bonus for the same directory and
// for the same file extension.
func pathAffinity(file, entry string) int {
	a := strings.Split(filepath.Dir(file), string(filepath.Separator))
	b := strings.Split(filepath.Dir(entry), string(filepath.Separator))
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	score := n * 4
	if n == len(a) && n == len(b) {
		score += 2
	}
	if filepath.Ext(file) == filepath.Ext(entry) {
		score++
	}
	return score
}

// findCompileFlags looks for the flags of file the way clangd does: the
// nearest compile_commands.json (also in a build/ subdirectory) or
// compile_flags.txt, searching from the file's directory upward. explicit,
// when set, names the database (file or directory) to use instead.
func (c *dbCache) findCompileFlags(file, explicit string) (flagSet, error) {
	if explicit != "" {
		path, err := ExplicitDatabase(explicit)
		if err != nil {
			return flagSet{}, err
		}
		db, err := c.load(path)
		if err != nil {
			return flagSet{}, err
		}
		fs, _ := db.flagsFor(file)
		return fs, nil
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		for _, p := range databaseNames(dir) {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			db, err := c.load(p)
			if err != nil {
				return flagSet{}, err
			}
			if fs, ok := db.flagsFor(file); ok {
				return fs, nil
			}
		}
		if parent := filepath.Dir(dir); parent == dir {
			return flagSet{}, nil
		}
	}
}

// ExplicitDatabase returns the database file that path, given by the
// user, names: path itself, or for a directory the first of the files
// clangd looks for in it. The result is absolute, so that the database's
// relative directories are too.
func ExplicitDatabase(path string) (string, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("compile database: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("compile database: %w", err)
	}
	if !st.IsDir() {
		return path, nil
	}
	for _, p := range databaseNames(path) {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("compile database: no compile_commands.json or compile_flags.txt in %s", path)
}

// databaseNames are the files clangd looks for in a directory.
func databaseNames(dir string) []string {
	return []string{
		filepath.Join(dir, "compile_commands.json"),
		filepath.Join(dir, "build", "compile_commands.json"),
		filepath.Join(dir, "compile_flags.txt"),
	}
}

// splitCommand splits a shell command line into words, honouring single and
// double quotes and backslash escapes (what compile_commands.json "command"
// strings use). It never runs anything.
func splitCommand(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i] // bytes, not runes: paths need not be UTF-8
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
