package verifier

import (
	"encoding/binary"
	"testing"
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
