package cparse

import (
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// The caches keyed by a text's address (directives, scans) must not keep
// the text alive: the trimmed vmlinux.h of every closed file a workspace
// pass parses would stay in memory with them.
func TestTextCachesHoldNoText(t *testing.T) {
	var scans scanCache
	defer runtime.KeepAlive(&scans)
	for name, remember := range map[string]func(text []byte){
		"directives": func(text []byte) {
			cachedDirectives("/tmp/header.h", text, func() *lineTable { return newLineTable(text) })
		},
		"scans": func(text []byte) { scans.get("/tmp/header.h", text) },
	} {
		text := []byte("#include <linux/types.h>\n" + strings.Repeat("struct pair { int a, b; };\n", 64))
		collected := make(chan struct{})
		runtime.AddCleanup(&text[0], func(done chan struct{}) { close(done) }, collected)
		remember(text)
		text = nil
		deadline := time.After(5 * time.Second)
	wait:
		for {
			runtime.GC()
			select {
			case <-collected:
				break wait
			case <-deadline:
				t.Errorf("%s: the cache keeps a text alive that nothing else holds", name)
				break wait
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// The arguments a macro makes up span its whole invocation: calls expanded
// from one invocation share that text instead of copying it each (a
// BPF_PROG2 program has thousands of them).
func TestMadeUpArgumentsShareText(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "prog.c", "int f(int a, int b);\n#define TWICE(x) (f(1 + 2, x) + f(3 + 4, x))\n\nint g(int y)\n{\n\treturn TWICE(y);\n}\n")
	f := parse(t, NewParser(Options{CacheDir: t.TempDir()}), path, nil)
	if f.AST == nil || len(f.Errors) > 0 || len(f.Funcs) != 1 || len(f.Funcs[0].Calls) != 2 {
		t.Fatalf("parse: %+v %+v", f.Errors, f.Funcs)
	}
	a, b := f.Funcs[0].Calls[0].Args[0].Text, f.Funcs[0].Calls[1].Args[0].Text
	if a != "TWICE(y)" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("made-up arguments %q and %q: want one shared text of the invocation", a, b)
	}
}
