package cparse

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// DefaultMaxFileSize bounds every file cparse reads (sources, headers,
// compile databases, flags files): a generated vmlinux.h is ~3 MB, so
// anything near this is not C someone wants analysed.
const DefaultMaxFileSize = 64 << 20

// errNotRegular and errTooBig explain why a file was refused.
var (
	errNotRegular = errors.New("not a regular file")
	errTooBig     = errors.New("file too large")
)

// readRegular reads path if it is a regular file of at most max bytes.
// It opens non-blocking first, so a FIFO or a device is refused after
// fstat instead of blocking the open or the read forever (/dev/zero,
// a named pipe nobody writes to).
func readRegular(path string, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errNotRegular}
	}
	if st.Size() > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%d bytes, limit %d)", errTooBig, st.Size(), max)}
	}
	// The size can change under us; never read more than the cap.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (over %d bytes)", errTooBig, max)}
	}
	return data, nil
}

// isNotExist reports errors that mean "no such file here" (keep searching),
// as opposed to a file that exists but cannot be used.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) ||
		errors.Is(err, syscall.ENAMETOOLONG) || errors.Is(err, syscall.ELOOP)
}

// ReadRegular reads path the way cparse reads every input: a regular file
// only, opened without blocking, at most max bytes (0 = DefaultMaxFileSize).
// Other readers of workspace files (project config, compile databases) use
// it so a FIFO or a device named there cannot hang or exhaust them either.
func ReadRegular(path string, max int64) ([]byte, error) { return readRegular(path, max) }
