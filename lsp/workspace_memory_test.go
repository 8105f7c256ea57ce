package lsp

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
)

// liveHeap is the heap reachable after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// lockFunctions returns a BPF program of n functions that push onto a
// locked list; tag makes its text (and so its parse) unique.
func lockFunctions(tag string, n int) string {
	var b strings.Builder
	b.WriteString("#include \"bpf_lsp.h\"\n\nstruct item {\n\tstruct bpf_list_node link;\n\t__u64 value;\n};\n\n")
	b.WriteString("private(L) struct bpf_spin_lock lock;\nprivate(L) struct bpf_list_head head __contains(item, link);\n\n")
	for i := range n {
		fmt.Fprintf(&b, "SEC(\"tc\")\nint %s_%d(struct __sk_buff *ctx)\n{\n\tstruct item *it = bpf_obj_new(typeof(*it));\n\n"+
			"\tif (!it)\n\t\treturn 0;\n\tit->value = ctx->len + %d;\n\tbpf_spin_lock(&lock);\n"+
			"\tbpf_list_push_back(&head, &it->link);\n\tbpf_spin_unlock(&lock);\n\treturn 0;\n}\n\n", tag, i, i)
	}
	b.WriteString("char _license[] SEC(\"license\") = \"GPL\";\n")
	return b.String()
}

// The workspace pass keeps only each closed file's diagnostics: after a
// pass over 48 large files in distinct directories (no preamble shared),
// the live heap has grown by the parser's bounded caches, not by a parse
// per file. Kept parses would hold several MB each, far over the bound.
func TestWorkspacePassHeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 48 files of 2,500 lines")
	}
	const files, funcs = 48, 200 // about 2,500 lines each
	tree := map[string]string{}
	for i := range files {
		tree[fmt.Sprintf("d%02d/prog.bpf.c", i)] = lockFunctions(fmt.Sprintf("p%02d", i), funcs)
	}
	dir := workspaceDir(t, tree)
	before := liveHeap()
	c := startServer(t, clientOptions{root: dir, capabilities: workspaceClient})
	c.waitFor("the end of the workspace pass", func() bool { return slices.Contains(c.progressKinds(), "end") })
	grown := int64(liveHeap()) - int64(before)
	t.Logf("live heap grew by %.1f MB over a pass of %d files", float64(grown)/(1<<20), files)
	if grown > workspaceHeapBound {
		t.Errorf("live heap grew by %.1f MB over the workspace pass, want at most %d MB: the pass keeps more than diagnostics",
			float64(grown)/(1<<20), workspaceHeapBound>>20)
	}
}

// workspaceHeapBound is what the parser's caches may hold after the pass
// above (header texts, scans, header passes, preambles of bpf_lsp.h).
const workspaceHeapBound = 32 << 20
