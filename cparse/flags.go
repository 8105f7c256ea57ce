package cparse

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// flagSet is what bpf-lsp takes from a compile command: the parts of it
// that change how a file preprocesses. Everything else (-O2, -g, -target)
// is irrelevant to parsing and ignored.
type flagSet struct {
	Includes  []string // -I, absolute
	System    []string // -isystem, absolute
	Defines   []string // NAME or NAME=VALUE
	Undefines []string
	Forced    []string // -include, absolute
	Source    string   // the database the flags came from, "" if none
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
		// value returns the flag's argument, attached ("-Ifoo") or separate ("-I foo").
		value := func(flag string) (string, bool) {
			if a == flag {
				if i+1 < len(args) {
					i++
					return args[i], true
				}
				return "", false
			}
			if strings.HasPrefix(a, flag) {
				return strings.TrimPrefix(strings.TrimPrefix(a, flag), "="), true
			}
			return "", false
		}
		switch {
		case strings.HasPrefix(a, "-isystem"):
			if v, ok := value("-isystem"); ok {
				fs.System = append(fs.System, abs(v))
			}
		case strings.HasPrefix(a, "-include"):
			if v, ok := value("-include"); ok {
				fs.Forced = append(fs.Forced, abs(v))
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

// compileEntry is one object of compile_commands.json.
type compileEntry struct {
	Directory string   `json:"directory"`
	File      string   `json:"file"`
	Command   string   `json:"command"`
	Arguments []string `json:"arguments"`
}

// findCompileFlags looks for the flags of file the way clangd does: the
// nearest compile_commands.json (also in a build/ subdirectory) or
// compile_flags.txt, searching from the file's directory upward. explicit,
// when set, names the database (file or directory) to use instead.
func findCompileFlags(file, explicit string) (flagSet, error) {
	if explicit != "" {
		st, err := os.Stat(explicit)
		if err != nil {
			return flagSet{}, fmt.Errorf("compile database: %w", err)
		}
		if st.IsDir() {
			for _, name := range []string{"compile_commands.json", "compile_flags.txt"} {
				p := filepath.Join(explicit, name)
				if _, err := os.Stat(p); err == nil {
					return loadDatabase(p, file)
				}
			}
			return flagSet{}, fmt.Errorf("compile database: no compile_commands.json or compile_flags.txt in %s", explicit)
		}
		return loadDatabase(explicit, file)
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		for _, p := range []string{
			filepath.Join(dir, "compile_commands.json"),
			filepath.Join(dir, "build", "compile_commands.json"),
			filepath.Join(dir, "compile_flags.txt"),
		} {
			if _, err := os.Stat(p); err == nil {
				fs, err := loadDatabase(p, file)
				if err != nil || fs.Source != "" {
					return fs, err
				}
			}
		}
		if parent := filepath.Dir(dir); parent == dir {
			return flagSet{}, nil
		}
	}
}

// loadDatabase reads the flags for file from a compile_commands.json (the
// entry for that file; none found means keep searching) or a
// compile_flags.txt (one argument per line, for every file below it).
func loadDatabase(path, file string) (flagSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return flagSet{}, err
	}
	if filepath.Base(path) == "compile_flags.txt" {
		var args []string
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				args = append(args, line)
			}
		}
		fs := parseFlags(args, filepath.Dir(path))
		fs.Source = path
		return fs, nil
	}
	var entries []compileEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return flagSet{}, fmt.Errorf("%s: %w", path, err)
	}
	for _, e := range entries {
		dir := e.Directory
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(path), dir)
		}
		f := e.File
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		if filepath.Clean(f) != filepath.Clean(file) {
			continue
		}
		args := e.Arguments
		if len(args) == 0 {
			args = splitCommand(e.Command)
		}
		fs := parseFlags(args, dir)
		fs.Source = path
		return fs, nil
	}
	return flagSet{}, nil
}

// splitCommand splits a shell command line into words, honouring single and
// double quotes and backslash escapes (what compile_commands.json "command"
// strings use). It never runs anything.
func splitCommand(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteRune(c)
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
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
