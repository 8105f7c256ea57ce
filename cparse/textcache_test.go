package cparse

import (
	"runtime"
	"strings"
	"testing"
	"time"
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
