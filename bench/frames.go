package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Length-prefixed frames over a byte stream (a pipe or a stream socket), the
// way a program without a queue would send messages: a 4-byte little-endian
// payload length, then the payload.
//
// The writer sends each frame with one write(2), header and payload
// together, so that every message is handed to the kernel when it is sent
// (no user-space batching: the reader could otherwise wait for a message that
// sits in the writer's buffer). The reader reads through a buffer, so small
// frames that arrived together cost one read(2): the same advantage a
// ring's consumer gets when messages pile up.

const frameHeader = 4

// errFrameTooLarge: a frame header announces more than the reader's buffer.
var errFrameTooLarge = errors.New("bench: frame larger than the buffer")

// frameWriter writes frames to w.
type frameWriter struct {
	w   io.Writer
	buf []byte
}

func newFrameWriter(w io.Writer, maxPayload int) *frameWriter {
	return &frameWriter{w: w, buf: make([]byte, frameHeader+maxPayload)}
}

// writeFrame sends p as one frame. p must fit the writer's maxPayload.
func (fw *frameWriter) writeFrame(p []byte) error {
	if len(p) > len(fw.buf)-frameHeader {
		return fmt.Errorf("%w: %d bytes, room for %d", errFrameTooLarge, len(p), len(fw.buf)-frameHeader)
	}
	binary.LittleEndian.PutUint32(fw.buf, uint32(len(p)))
	n := copy(fw.buf[frameHeader:], p)
	_, err := fw.w.Write(fw.buf[:frameHeader+n])
	return err
}

// frameReader reads frames from r.
type frameReader struct {
	r   *bufio.Reader
	hdr [frameHeader]byte
}

// frameReadBuffer is the reader's buffer: one pipe's worth (the default pipe
// capacity on Linux), so that one read can take everything a pipe holds.
const frameReadBuffer = 64 << 10

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, frameReadBuffer)}
}

// readFrame reads the next frame's payload into buf and returns its length.
// A frame longer than buf is an error: the stream is not resynchronised.
func (fr *frameReader) readFrame(buf []byte) (int, error) {
	if _, err := io.ReadFull(fr.r, fr.hdr[:]); err != nil {
		return 0, err
	}
	n := int(binary.LittleEndian.Uint32(fr.hdr[:]))
	if n > len(buf) {
		return 0, fmt.Errorf("%w: %d bytes, buffer %d", errFrameTooLarge, n, len(buf))
	}
	if _, err := io.ReadFull(fr.r, buf[:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	return n, nil
}
