package cparse

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
)

// CompileCommand is one entry of a compile_commands.json, with its paths
// made absolute.
type CompileCommand struct {
	Directory string   // the directory the compiler runs in
	File      string   // the source file, cleaned
	Args      []string // the compiler's arguments ("command" split into words)
}

// ReadCompileCommands reads every entry of a compile_commands.json.
func ReadCompileCommands(path string) ([]CompileCommand, error) {
	data, err := readRegular(path, 0)
	if err != nil {
		return nil, err
	}
	return decodeCompileCommands(path, data)
}

// decodeCompileCommands parses the text of the compile_commands.json at
// path, making its paths absolute.
func decodeCompileCommands(path string, data []byte) ([]CompileCommand, error) {
	var entries []compileEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]CompileCommand, 0, len(entries))
	for _, e := range entries {
		dir := e.Directory
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(path), dir)
		}
		f := e.File
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		args := e.Arguments
		if len(args) == 0 {
			args = splitCommand(e.Command)
		}
		out = append(out, CompileCommand{Directory: dir, File: filepath.Clean(f), Args: args})
	}
	return out, nil
}

// TargetsBPF reports whether compiler arguments build for the BPF target
// (-target bpf, --target=bpfel, ...).
func TargetsBPF(args []string) bool {
	for i, a := range args {
		var target string
		switch {
		case (a == "-target" || a == "--target") && i+1 < len(args):
			target = args[i+1]
		case strings.HasPrefix(a, "--target="), strings.HasPrefix(a, "-target="):
			target = a[strings.Index(a, "=")+1:]
		}
		if strings.HasPrefix(target, "bpf") {
			return true
		}
	}
	return false
}

// FlagEdit adds compile arguments to every file's command and removes
// some from the compile database's (a project config's compileFlags).
// Both take -I, -isystem, -D, -U and -include; relative paths are
// relative to Dir. A removed -DNAME drops every definition of NAME.
type FlagEdit struct {
	Add, Remove []string
	Dir         string
}

// removeFrom drops the flags e.Remove names from the database's flags.
func (e FlagEdit) removeFrom(db flagSet) flagSet {
	if len(e.Remove) == 0 {
		return db
	}
	rm := parseFlags(e.Remove, e.Dir)
	keep := func(have, drop []string, key func(string) string) []string {
		var out []string
	next:
		for _, h := range have {
			for _, d := range drop {
				if key(h) == key(d) {
					continue next
				}
			}
			out = append(out, h)
		}
		return out
	}
	same := func(s string) string { return s }
	macro := func(s string) string { name, _, _ := strings.Cut(s, "="); return name }
	db.Quote = keep(db.Quote, rm.Quote, same)
	db.Includes = keep(db.Includes, rm.Includes, same)
	db.System = keep(db.System, rm.System, same)
	db.After = keep(db.After, rm.After, same)
	db.Forced = keep(db.Forced, rm.Forced, same)
	db.Defines = keep(db.Defines, rm.Defines, macro)
	db.Undefines = keep(db.Undefines, rm.Undefines, macro)
	return db
}
