package lsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"go.lsp.dev/jsonrpc2"
)

// Limits of the framing reader. A frame may carry a whole document (cparse
// reads at most 64 MB of one), JSON-escaped.
const (
	maxFrame   = 256 << 20 // a larger Content-Length is taken for garbage
	maxHeader  = 8 << 10   // a header line longer than this is garbage
	maxGarbage = 64 << 20  // this much garbage in a row ends the session
	readChunk  = 64 << 10
)

// headerName starts every frame (matched case-insensitively).
var headerName = []byte("content-length:")

// resyncStream reads LSP frames and survives malformed input: after a bad
// header, a body that is not a JSON-RPC message or a Content-Length that
// swallowed the next frame, it skips to the next "Content-Length:" header
// instead of failing the connection (jsonrpc2 closes it on any read error)
// or waiting forever in the middle of garbage. Only a long run of garbage,
// or the transport ending, ends the session, with the reason logged.
// Writes go through jsonrpc2's header stream.
type resyncStream struct {
	jsonrpc2.Stream // writes and Close
	in              io.Reader
	log             *slog.Logger
	buf             []byte // read but not yet consumed
	eof             error  // the error that ended the input, once seen
	garbage         int    // bytes skipped since the last good message
}

func newResyncStream(rw io.ReadWriteCloser, log *slog.Logger) *resyncStream {
	return &resyncStream{Stream: jsonrpc2.NewHeaderStream(rw), in: rw, log: log}
}

func (s *resyncStream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		length, headerLen, err := s.header()
		if err != nil {
			return nil, 0, err
		}
		if length < 0 {
			if err := s.skip(headerLen, "malformed header"); err != nil {
				return nil, 0, err
			}
			continue
		}
		next, err := s.body(headerLen, length)
		if err != nil {
			return nil, 0, err
		}
		if next >= 0 {
			// A Content-Length longer than its body: the next frame starts
			// inside it.
			if err := s.skip(next, "a frame inside the previous one's body"); err != nil {
				return nil, 0, err
			}
			continue
		}
		body := bytes.Clone(s.buf[headerLen : headerLen+length])
		msg, err := jsonrpc2.DecodeMessage(body)
		if err != nil {
			// Skip only the header: a length longer than its body may
			// have taken the start of the next frame's header into it,
			// and the search must be able to find it there.
			if err := s.skip(headerLen, "not a JSON-RPC message: "+err.Error()); err != nil {
				return nil, 0, err
			}
			continue
		}
		s.buf = s.buf[headerLen+length:]
		s.garbage = 0
		return msg, int64(headerLen + length), nil
	}
}

// header parses the header block at the start of buf. It returns the body
// length and the header's size, or length -1 and the number of bytes to
// skip when the header is malformed.
func (s *resyncStream) header() (length, size int, err error) {
	length = -1
	for {
		end := bytes.IndexByte(s.buf[size:], '\n')
		for end < 0 {
			if len(s.buf)-size > maxHeader {
				return -1, max(size, 1), nil
			}
			if err := s.fill(len(s.buf) + 1); err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) && len(s.buf) == 0 {
					err = io.EOF
				}
				return 0, 0, err
			}
			end = bytes.IndexByte(s.buf[size:], '\n')
		}
		line := bytes.TrimRight(s.buf[size:size+end], "\r")
		size += end + 1
		if len(line) == 0 {
			if length >= 0 {
				return length, size, nil
			}
			return -1, size, nil // a blank line with no Content-Length before it
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return -1, size, nil
		}
		if bytes.EqualFold(bytes.TrimSpace(name), headerName[:len(headerName)-1]) {
			n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
			if err != nil || n <= 0 || n > maxFrame {
				return -1, size, nil
			}
			length = n
		}
	}
}

// body reads the body of length bytes at buf[start:]. It returns -1, or
// the offset in buf of a frame header found inside the body while reading
// it: "Content-Length: N" and a raw line break cannot occur in a JSON text
// (a string escapes its line breaks, and outside strings it is no JSON), so
// such a header means the declared length is wrong, and waiting for the
// rest of the body could wait forever.
func (s *resyncStream) body(start, length int) (int, error) {
	scanned := start
	for {
		// Re-scan a little before the new data: a header may have been split
		// between reads.
		from := max(start, scanned-len(headerName)-16)
		end := min(len(s.buf), start+length)
		if i := frameStart(s.buf[from:end]); i >= 0 {
			return from + i, nil
		}
		scanned = end
		if end == start+length {
			return -1, nil
		}
		if err := s.fill(len(s.buf) + 1); err != nil {
			return 0, err
		}
	}
}

// frameStart returns the index of the first complete "Content-Length: N"
// line in b, or -1.
func frameStart(b []byte) int {
	for off := 0; ; {
		i := indexFold(b[off:], headerName)
		if i < 0 {
			return -1
		}
		rest := bytes.TrimLeft(b[off+i+len(headerName):], " \t")
		digits := len(rest) - len(bytes.TrimLeft(rest, "0123456789"))
		rest = bytes.TrimPrefix(rest[digits:], []byte("\r"))
		if digits > 0 && len(rest) > 0 && rest[0] == '\n' {
			return off + i
		}
		off += i + 1
	}
}

// skip drops at least n bytes of garbage, then everything up to the next
// "Content-Length:", reading on as needed.
func (s *resyncStream) skip(n int, why string) error {
	dropped := 0
	for {
		n = min(n, len(s.buf))
		s.buf = s.buf[n:]
		dropped += n
		if i := indexFold(s.buf, headerName); i >= 0 {
			s.buf = s.buf[i:]
			dropped += i
			break
		}
		// Keep a tail that may be the start of a split header.
		keep := min(len(s.buf), len(headerName)-1)
		dropped += len(s.buf) - keep
		s.buf = s.buf[len(s.buf)-keep:]
		if s.garbage+dropped > maxGarbage {
			break
		}
		if err := s.fill(len(s.buf) + 1); err != nil {
			return err
		}
		n = 0
	}
	s.garbage += dropped
	if s.garbage > maxGarbage {
		err := fmt.Errorf("%d bytes without a valid JSON-RPC message; closing the session", s.garbage)
		s.log.Error("framing", "err", err)
		return err
	}
	s.log.Warn("skipped malformed input", "bytes", dropped, "reason", why)
	return nil
}

// fill reads until buf holds at least n bytes.
func (s *resyncStream) fill(n int) error {
	for len(s.buf) < n {
		if s.eof != nil {
			return s.eof
		}
		if cap(s.buf)-len(s.buf) < readChunk {
			grown := make([]byte, len(s.buf), 2*cap(s.buf)+readChunk)
			copy(grown, s.buf)
			s.buf = grown
		}
		m, err := s.in.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+m]
		if err != nil && len(s.buf) < n {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // in the middle of a frame
			}
			s.eof = err
			return err
		}
	}
	return nil
}

// indexFold is bytes.Index for an ASCII-lowercase needle, ignoring case.
func indexFold(s, lowerNeedle []byte) int {
	for i := 0; i+len(lowerNeedle) <= len(s); i++ {
		if s[i]|0x20 == lowerNeedle[0] && bytes.EqualFold(s[i:i+len(lowerNeedle)], lowerNeedle) {
			return i
		}
	}
	return -1
}
