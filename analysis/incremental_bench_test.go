package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
)

// BenchmarkEditAnalysis measures the analysis phase after a one-line edit
// inside one function (the parse is done once, outside the timing): a
// full analysis against one through a Cache that saw the version before.
// Files: the largest testdata program and kernel selftests (from the
// realworld corpus cache, with the scratch headers in /tmp/rw).
func BenchmarkEditAnalysis(b *testing.B) {
	largest := ""
	var size int64
	for _, p := range corpusFiles(b, "../testdata") {
		if st, err := os.Stat(p); err == nil && st.Size() > size {
			largest, size = p, st.Size()
		}
	}
	inc, _ := filepath.Abs("../testdata/include")
	b.Run(filepath.Base(largest), func(b *testing.B) {
		benchEdit(b, cparse.NewParser(cparse.Options{IncludeDirs: []string{inc}}), largest)
	})
	selftests := filepath.Join(os.Getenv("HOME"), ".cache/bpf-lsp/realworld/linux-source-6.12/tools/testing/selftests/bpf")
	for _, name := range []string{"linked_list.c", "rbtree.c", "find_vma.c"} {
		b.Run(name, func(b *testing.B) {
			path := selftestCopy(b, selftests, name)
			benchEdit(b, cparse.NewParser(cparse.Options{}), path)
		})
	}
}

// benchEdit parses path and a version with one more statement in the body
// of its middle program, then times analyses alternating between them.
func benchEdit(b *testing.B, parser *cparse.Parser, path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	parse := func(text []byte) *cparse.File {
		f, err := parser.Parse(context.Background(), path, map[string][]byte{path: text})
		if err != nil || f.AST == nil {
			b.Fatalf("parse: %v %v", err, f.Errors)
		}
		return f
	}
	f0 := parse(src)
	var bodies []*cparse.Func
	for _, fn := range f0.Funcs {
		if fn.Section != "" && fn.BodySpan.File == f0.Path && fn.Def.CompoundStatement.BlockItemList != nil {
			bodies = append(bodies, fn)
		}
	}
	mid := bodies[len(bodies)/2]
	at := mid.BodySpan.Start.Offset + bytes.IndexByte(src[mid.BodySpan.Start.Offset:], '\n') + 1
	edited := append(append(append([]byte{}, src[:at]...), "\t;\n"...), src[at:]...)
	f1 := parse(edited)
	// The parser learns which vmlinux.h types files use (the trimmed
	// header it serves grows): parse again, as a warm server would.
	f0, f1 = parse(src), parse(edited)
	b.Logf("%s: %d functions, %d frontend errors, edit in %s; full: %+v", filepath.Base(path), len(f0.Funcs), len(f0.Errors), mid.Name, Run(f0).Stats)
	b.Run("full", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Run([]*cparse.File{f0, f1}[i%2])
		}
	})
	b.Run("incremental", func(b *testing.B) {
		c := NewCache()
		c.Run(f0)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r := c.Run([]*cparse.File{f1, f0}[i%2])
			if r.Stats.Cached == 0 && r.Stats.Programs > 1 {
				b.Fatalf("nothing reused: %+v", r.Stats)
			}
		}
	})
	// What the cache costs when everything is reused (fingerprints,
	// moving the findings, merging).
	b.Run("unchanged", func(b *testing.B) {
		c := NewCache()
		c.Run(f0)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if r := c.Run(f0); r.Stats.Cached != r.Stats.Programs {
				b.Fatalf("not all reused: %+v", r.Stats)
			}
		}
	})
}

// selftestCopy copies a kernel selftest program beside a compile database
// with the selftests' flags (-I relative to their directory).
func selftestCopy(b *testing.B, dir, name string) string {
	src, err := os.ReadFile(filepath.Join(dir, "progs", name))
	if err != nil {
		testenv.Skip(b, "kernel selftests absent: %v", err)
	}
	if _, err := os.Stat("/tmp/rw/vmlinux.h"); err != nil {
		testenv.Skip(b, "selftest headers absent (/tmp/rw): %v", err)
	}
	tmp := b.TempDir()
	path := filepath.Join(tmp, name)
	if err := os.WriteFile(path, src, 0o644); err != nil {
		b.Fatal(err)
	}
	args := []string{"clang-19", "-g", "-Wall", "-D__TARGET_ARCH_x86", "-mlittle-endian", "-I/tmp/rw", "-I.", "-Iprogs",
		"-I../../../include/uapi", "-I/tmp/rw/include", "-I../../../include",
		"-idirafter", "/usr/lib/llvm-19/lib/clang/19/include", "-idirafter", "/usr/local/include",
		"-idirafter", "/usr/include/x86_64-linux-gnu", "-idirafter", "/usr/include",
		"-Wno-compare-distinct-pointer-types", "-O2", "--target=bpf", "-mcpu=v3", "-c", path}
	db, _ := json.Marshal([]map[string]any{{"directory": dir, "file": path, "arguments": args}})
	if err := os.WriteFile(filepath.Join(tmp, "compile_commands.json"), db, 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}
