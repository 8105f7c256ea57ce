package vm

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// An initramfs is one or more newc cpio archives, concatenated. The base
// archive (gzip) holds the guest binary as /init; each run appends an
// uncompressed archive with its objects. The kernel only finds the second
// archive when it starts on a 4-byte boundary, so the base is padded.

const (
	modeDir  = 0o040000
	modeFile = 0o100000
	modeChar = 0o020000
)

type cpioEntry struct {
	name         string
	mode         uint32
	major, minor uint32 // device numbers for character devices
	data         []byte
}

// writeCpio writes entries as one newc archive with its trailer.
func writeCpio(w io.Writer, entries []cpioEntry) error {
	var buf bytes.Buffer
	ino := uint32(1)
	write := func(e cpioEntry) {
		name := e.name + "\x00"
		fmt.Fprintf(&buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, e.mode, 0, 0, 1, 0, len(e.data), 0, 0, e.major, e.minor, len(name), 0)
		ino++
		buf.WriteString(name)
		pad4(&buf)
		buf.Write(e.data)
		pad4(&buf)
	}
	for _, e := range entries {
		write(e)
	}
	write(cpioEntry{name: "TRAILER!!!"})
	_, err := w.Write(buf.Bytes())
	return err
}

func pad4(b *bytes.Buffer) {
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}

// baseInitramfs returns the gzip-compressed base archive for a guest
// binary, zero-padded to a multiple of 4 bytes.
func baseInitramfs(guest []byte) ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	entries := []cpioEntry{
		{name: "dev", mode: modeDir | 0o755},
		{name: "dev/console", mode: modeChar | 0o600, major: 5, minor: 1},
		{name: "proc", mode: modeDir | 0o755},
		{name: "sys", mode: modeDir | 0o755},
		{name: "objects", mode: modeDir | 0o755},
		{name: "init", mode: modeFile | 0o755, data: guest},
	}
	if err := writeCpio(zw, entries); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	pad4(&out)
	return out.Bytes(), nil
}

// objectsArchive returns the per-run archive: objects/NNN.o for each object.
func objectsArchive(objs [][]byte) ([]byte, error) {
	entries := make([]cpioEntry, len(objs))
	for i, o := range objs {
		entries[i] = cpioEntry{name: fmt.Sprintf("objects/%03d.o", i), mode: modeFile | 0o644, data: o}
	}
	var out bytes.Buffer
	err := writeCpio(&out, entries)
	return out.Bytes(), err
}
