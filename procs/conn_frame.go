package procs

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// Frames. Every message is one frame:
//
//	[0:4]  payload length, little endian (at most the receiver's maximum)
//	[4]    kind: frameValue (gob bytes), frameBytes (raw) or frameHandles
//	       (gob bytes with descriptors, conn_fds.go)
//	[5]    frameMarker, a constant: a frame that lacks it means the stream is
//	       not ours or lost sync, which is reported, never guessed past
//	[6:8]  zero, reserved for a future version
//	[8:]   payload
//
// A receiver reads ahead into a buffer, so one read(2) usually brings many
// small frames. It examines a header before consuming it: a message that
// does not fit RecvBytesInto's buffer, or a raw message offered to Recv,
// stays queued, header and all. Only a malformed header, an oversized
// length or a stream cut mid-frame breaks the connection, for good.
const (
	frameHeader = 8
	frameValue  = 1
	frameBytes  = 2
	frameMarker = 0xc7

	readBufSize = 64 << 10 // receive buffer; larger payloads are read straight into their destination
	keepWBuf    = 1 << 20  // a send buffer grown past this is dropped after use
)

func putHeader(h []byte, n int, kind byte) {
	binary.LittleEndian.PutUint32(h[0:4], uint32(n))
	h[4], h[5], h[6], h[7] = kind, frameMarker, 0, 0
}

// Send sends v as one message, gob-encoded on its own (each message carries
// its type description, so messages never depend on each other: any of them
// can be skipped, received by another process, or read with RecvBytes).
//
// Send and SendBytes have no Try, Context or Timeout forms, as Python's
// send has none: a frame is written whole or the stream is broken for
// good, so a bound could only cover the wait before the first byte, and a
// receiver that stops reading would still hold up the rest.
func (c *Conn) Send(v any) error {
	if err := c.checkSend(); err != nil {
		return err
	}
	// gob crashes (Go 1.26) encoding a pointer to a pointer whose type
	// implements GobEncoder; one level of pointer encodes the same value.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Pointer {
		v = rv.Elem().Interface()
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	w := frameWriter{b: append(c.wbuf[:0], make([]byte, frameHeader)...)}
	encode := func() error { return gob.NewEncoder(&w).Encode(v) }
	if !mayCarryHandles(reflect.TypeOf(v)) {
		if err := encode(); err != nil {
			return fmt.Errorf("procs: send: encoding %T: %w", v, err)
		}
		return c.writeFrame(w.b, frameValue)
	}
	// Shared objects and connections in v: their descriptors go along.
	segs, files, err := shm.Export(encode)
	if err != nil {
		return fmt.Errorf("procs: send: encoding %T: %w", v, err)
	}
	defer func() {
		for _, s := range segs {
			_ = s.Detach()
		}
		for _, f := range files {
			_ = f.Close()
		}
	}()
	if len(segs) == 0 && len(files) == 0 {
		return c.writeFrame(w.b, frameValue)
	}
	if cap(w.b) <= keepWBuf {
		c.wbuf = w.b[:0]
	}
	return c.sendHandles(w.b, segs, files)
}

type frameWriter struct{ b []byte }

func (w *frameWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// SendBytes sends b as one raw message.
func (c *Conn) SendBytes(b []byte) error {
	if err := c.checkSend(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(b) <= readBufSize {
		// One write(2) for header and payload.
		return c.writeFrame(append(append(c.wbuf[:0], make([]byte, frameHeader)...), b...), frameBytes)
	}
	if len(b) > c.MaxMessageSize() {
		return fmt.Errorf("procs: send: %d bytes, maximum %d: %w", len(b), c.MaxMessageSize(), ErrMessageTooLarge)
	}
	// Large: two writes rather than a copy of the payload.
	var h [frameHeader]byte
	putHeader(h[:], len(b), frameBytes)
	if err := c.write(h[:]); err != nil {
		return err
	}
	return c.write(b)
}

// writeFrame fills in frame's header and writes it. The caller holds wmu.
func (c *Conn) writeFrame(frame []byte, kind byte) error {
	n := len(frame) - frameHeader
	if cap(frame) <= keepWBuf {
		c.wbuf = frame[:0]
	}
	if n > c.MaxMessageSize() {
		return fmt.Errorf("procs: send: %d bytes, maximum %d: %w", n, c.MaxMessageSize(), ErrMessageTooLarge)
	}
	putHeader(frame, n, kind)
	return c.write(frame)
}

func (c *Conn) write(b []byte) error {
	if _, err := c.f.Write(b); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("procs: send: %w", ErrConnClosed)
		}
		// EPIPE when every copy of the other end is closed.
		return fmt.Errorf("procs: send: %w", err)
	}
	return nil
}

func (c *Conn) checkSend() error {
	switch {
	case c.closed.Load():
		return fmt.Errorf("procs: send: %w", ErrConnClosed)
	case !c.writable:
		return fmt.Errorf("procs: send: %w", ErrNotWritable)
	}
	return nil
}

func (c *Conn) checkRecv() error {
	switch {
	case c.closed.Load():
		return fmt.Errorf("procs: recv: %w", ErrConnClosed)
	case !c.readable:
		return fmt.Errorf("procs: recv: %w", ErrNotReadable)
	}
	return nil
}

// beginRecv takes the receive lock and waits for a message to begin,
// both within b (conn_wait.go). On success the caller must unlockRecv.
func (c *Conn) beginRecv(b futex.Bound) error {
	if err := c.checkRecv(); err != nil {
		return err
	}
	if err := c.lockRecv(b); err != nil {
		return err
	}
	if err := c.awaitMessage(b); err != nil {
		c.unlockRecv()
		return err
	}
	return nil
}

// Recv receives the next message into v, a pointer to a type the sent
// value decodes into (gob's rules): Python's recv(). It blocks until a
// message arrives and returns io.EOF once the other end is closed and
// every message read. A message that fails to decode is consumed and the
// error returned; a raw message (SendBytes) is left queued and
// ErrNotValue returned.
func (c *Conn) Recv(v any) error { return c.recv(futex.Block(), v) }

// TryRecv is Recv that never waits: it receives only a message that has
// arrived whole, and otherwise returns ErrEmpty (wrapped), receiving
// nothing. Python's poll(0) then recv().
func (c *Conn) TryRecv(v any) error { return c.recv(futex.NoWait(), v) }

// RecvContext is Recv that stops waiting for a message to begin when ctx
// ends, returning its error (wrapped) and receiving nothing; a message
// that has begun to arrive is received whole. Python's poll(timeout) then
// recv().
func (c *Conn) RecvContext(ctx context.Context, v any) error {
	return c.recv(futex.WithContext(ctx), v)
}

// RecvTimeout is RecvContext bounded by d: ErrTimeout when no message
// began to arrive within d. A negative d waits without limit.
func (c *Conn) RecvTimeout(v any, d time.Duration) error { return c.recv(futex.Within(d), v) }

func (c *Conn) recv(b futex.Bound, v any) error {
	if err := c.beginRecv(b); err != nil {
		return err
	}
	defer c.unlockRecv()
	n, kind, err := c.peekHeader()
	if err != nil {
		return err
	}
	if kind == frameBytes {
		return fmt.Errorf("procs: recv: message of %d bytes: %w", n, ErrNotValue)
	}
	var payload []byte
	if frameHeader+n <= len(c.rbuf) {
		// Decode in place, from the receive buffer.
		if err := c.fill(frameHeader + n); err != nil {
			return c.cut(err)
		}
		payload = c.rbuf[c.r+frameHeader : c.r+frameHeader+n]
		defer c.consume(frameHeader + n)
	} else {
		c.consume(frameHeader)
		if payload, err = c.readPayload(n); err != nil {
			return err
		}
	}
	if kind == frameHandles {
		return c.decodeHandles(payload, v)
	}
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(v); err != nil {
		return fmt.Errorf("procs: recv: decoding a message of %d bytes into %T: %w", n, v, err)
	}
	return nil
}

// RecvValue receives the next message as a T (see Conn.Recv; its other
// forms take a pointer, as Recv's do).
func RecvValue[T any](c *Conn) (T, error) {
	var v T
	err := c.Recv(&v)
	return v, err
}

// RecvBytes receives the next message's payload, whatever its kind (a
// value's payload is its gob bytes): Python's recv_bytes(). It blocks
// until a message arrives and returns io.EOF once the other end is closed
// and every message read. The buffer it returns is new and grows with the
// bytes that actually arrive, so a lying header cannot make it allocate
// more than it receives (twice over at most).
func (c *Conn) RecvBytes() ([]byte, error) { return c.recvBytes(futex.Block()) }

// TryRecvBytes is RecvBytes that never waits (see TryRecv).
func (c *Conn) TryRecvBytes() ([]byte, error) { return c.recvBytes(futex.NoWait()) }

// RecvBytesContext is RecvBytes bounded by ctx (see RecvContext).
func (c *Conn) RecvBytesContext(ctx context.Context) ([]byte, error) {
	return c.recvBytes(futex.WithContext(ctx))
}

// RecvBytesTimeout is RecvBytes bounded by d (see RecvTimeout).
func (c *Conn) RecvBytesTimeout(d time.Duration) ([]byte, error) {
	return c.recvBytes(futex.Within(d))
}

func (c *Conn) recvBytes(b futex.Bound) ([]byte, error) {
	if err := c.beginRecv(b); err != nil {
		return nil, err
	}
	defer c.unlockRecv()
	n, kind, err := c.peekHeader()
	if err != nil {
		return nil, err
	}
	if kind == frameHandles {
		return nil, fmt.Errorf("procs: recv: message of %d bytes: %w", n, ErrHasDescriptors)
	}
	c.consume(frameHeader)
	return c.readPayload(n)
}

// RecvBytesInto receives the next message's payload into buf and returns
// its length: Python's recv_bytes_into(). When buf is shorter than the
// message it returns a *BufferTooShortError (errors.Is ErrBufferTooShort)
// giving the message's length, and leaves the message queued: nothing is
// lost and the stream stays in step.
func (c *Conn) RecvBytesInto(buf []byte) (int, error) { return c.recvBytesInto(futex.Block(), buf) }

// TryRecvBytesInto is RecvBytesInto that never waits (see TryRecv).
func (c *Conn) TryRecvBytesInto(buf []byte) (int, error) {
	return c.recvBytesInto(futex.NoWait(), buf)
}

// RecvBytesIntoContext is RecvBytesInto bounded by ctx (see RecvContext).
func (c *Conn) RecvBytesIntoContext(ctx context.Context, buf []byte) (int, error) {
	return c.recvBytesInto(futex.WithContext(ctx), buf)
}

// RecvBytesIntoTimeout is RecvBytesInto bounded by d (see RecvTimeout).
func (c *Conn) RecvBytesIntoTimeout(buf []byte, d time.Duration) (int, error) {
	return c.recvBytesInto(futex.Within(d), buf)
}

func (c *Conn) recvBytesInto(b futex.Bound, buf []byte) (int, error) {
	if err := c.beginRecv(b); err != nil {
		return 0, err
	}
	defer c.unlockRecv()
	n, kind, err := c.peekHeader()
	if err != nil {
		return 0, err
	}
	if kind == frameHandles {
		return 0, fmt.Errorf("procs: recv: message of %d bytes: %w", n, ErrHasDescriptors)
	}
	if n > len(buf) {
		return 0, &BufferTooShortError{Size: n, Buffer: len(buf)}
	}
	c.consume(frameHeader)
	k := copy(buf[:n], c.rbuf[c.r:c.w])
	c.consume(k)
	if k < n {
		if _, err := io.ReadFull(connReader{c}, buf[k:n]); err != nil {
			return 0, c.cut(err)
		}
	}
	return n, nil
}

// peekHeader reads and checks the next frame's header without consuming
// it. The caller holds the receive lock.
func (c *Conn) peekHeader() (n int, kind byte, err error) {
	if c.broken != nil {
		return 0, 0, c.broken
	}
	if err := c.fill(frameHeader); err != nil {
		if err == io.EOF && c.w == c.r {
			return 0, 0, io.EOF // a clean end, between frames
		}
		return 0, 0, c.cut(err)
	}
	h := c.rbuf[c.r : c.r+frameHeader]
	size := binary.LittleEndian.Uint32(h[0:4])
	kind = h[4]
	if h[5] != frameMarker || h[6] != 0 || h[7] != 0 || (kind != frameValue && kind != frameBytes && kind != frameHandles) {
		c.broken = fmt.Errorf("procs: recv: header % x: %w", h, ErrMalformedFrame)
		return 0, 0, c.broken
	}
	if int64(size) > c.maxMsg.Load() {
		c.broken = fmt.Errorf("procs: recv: frame of %d bytes, maximum %d: %w (%w)",
			size, c.maxMsg.Load(), ErrMessageTooLarge, ErrMalformedFrame)
		return 0, 0, c.broken
	}
	return int(size), kind, nil
}

// readPayload reads the n bytes of a payload whose header is consumed
// into a new slice. The caller holds the receive lock.
func (c *Conn) readPayload(n int) ([]byte, error) {
	k := min(n, c.w-c.r)
	// Start with what is buffered plus one read's worth, and grow with what
	// arrives: the header's length is a claim, not a promise.
	out := make([]byte, k, min(n, max(k, readBufSize)))
	copy(out, c.rbuf[c.r:c.r+k])
	c.consume(k)
	for len(out) < n {
		if len(out) == cap(out) {
			out = slices.Grow(out, min(n, 2*cap(out))-len(out))
		}
		// Never past n: growing may round the capacity up, and bytes past
		// the payload belong to the next frame.
		m, err := c.read(out[len(out):min(cap(out), n)])
		out = out[:len(out)+m]
		if err != nil && len(out) < n {
			return nil, c.cut(err)
		}
	}
	return out, nil
}

// fill reads until rbuf holds need unconsumed bytes (need <= len(rbuf)).
// The caller holds the receive lock.
func (c *Conn) fill(need int) error {
	if c.rbuf == nil {
		c.rbuf = make([]byte, readBufSize)
	}
	if c.w-c.r >= need {
		return nil
	}
	if len(c.rbuf)-c.r < need {
		c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
		c.r = 0
	}
	for c.w-c.r < need {
		m, err := c.read(c.rbuf[c.w:])
		c.w += m
		c.buffered.Store(int32(c.w - c.r))
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Conn) consume(n int) {
	c.r += n
	if c.r == c.w {
		c.r, c.w = 0, 0
	}
	c.buffered.Store(int32(c.w - c.r))
}

// cut turns a read error met inside a frame into the connection's sticky
// error: once part of a frame is gone the stream cannot be trusted.
func (c *Conn) cut(err error) error {
	switch {
	case errors.Is(err, os.ErrClosed):
		return fmt.Errorf("procs: recv: %w", ErrConnClosed)
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		c.broken = fmt.Errorf("procs: recv: stream ended inside a frame: %w (%w)", io.ErrUnexpectedEOF, ErrMalformedFrame)
	default:
		c.broken = fmt.Errorf("procs: recv: %w", err)
	}
	return c.broken
}

// connReader reads through Conn.read, so that descriptors are queued. The
// caller holds the receive lock.
type connReader struct{ c *Conn }

func (r connReader) Read(p []byte) (int, error) { return r.c.read(p) }
