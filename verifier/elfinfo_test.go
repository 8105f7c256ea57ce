package verifier

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
)

// Damaged objects are errors, never panics.
func TestDamagedObjectsAreErrors(t *testing.T) {
	for name, obj := range map[string][]byte{
		"empty":     {},
		"not ELF":   []byte("#!/bin/sh\necho hi\n"),
		"truncated": []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\xf7\x00"),
	} {
		if _, err := loadObject(obj, nil); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// A .ksyms Datasec claiming more variables than the type section holds.
func TestUntypeKsymsBounds(t *testing.T) {
	le := binary.LittleEndian
	strs := []byte("\x00.ksyms\x00")
	types := make([]byte, 12)
	le.PutUint32(types[0:], 1)                      // name ".ksyms"
	le.PutUint32(types[4:], btfKindDatasec<<24|500) // vlen 500, no room for them
	hdr := make([]byte, 24)
	le.PutUint16(hdr[0:], 0xeb9f)
	hdr[2], hdr[3] = 1, 0
	le.PutUint32(hdr[4:], 24)
	le.PutUint32(hdr[8:], 0)
	le.PutUint32(hdr[12:], uint32(len(types)))
	le.PutUint32(hdr[16:], uint32(len(types)))
	le.PutUint32(hdr[20:], uint32(len(strs)))
	raw := append(append(hdr, types...), strs...)
	if err := untypeKsyms(raw, map[string]bool{}); err == nil {
		t.Error("an out-of-bounds Datasec was accepted")
	}
}

// Programs are the functions of executable sections other than .text:
// subprograms, static or global, are not.
func TestObjectPrograms(t *testing.T) {
	clang, err := clangPath("")
	if err != nil {
		testenv.Skip(t, "%v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "progs.bpf.c")
	if err := os.WriteFile(src, []byte(`
static __attribute__((noinline)) int helper(int x) { return x + 1; }
__attribute__((noinline)) int global_sub(int x) { return helper(x) * 2; }
__attribute__((section("xdp"), used)) int on_xdp(void *ctx) { return global_sub(1); }
__attribute__((section("tc"), used)) int b_on_tc(void *ctx) { return helper(2); }
__attribute__((section("tc"), used)) int a_on_tc(void *ctx) { return 0; }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "progs.o")
	if out, err := exec.Command(clang, "-target", "bpf", "-O2", "-c", src, "-o", obj).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	data, err := os.ReadFile(obj)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ObjectPrograms(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectProgram{{"a_on_tc", "tc"}, {"b_on_tc", "tc"}, {"on_xdp", "xdp"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
