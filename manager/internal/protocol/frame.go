// Package protocol is the manager's wire format: the frames a client and a
// server exchange after authentication, the bodies inside them, and the
// HMAC handshake that comes first. It knows nothing of objects or types:
// what requests and replies carry is package manager's (control.go, codec.go).
//
// Everything here reads bytes from a peer that may be broken or hostile:
// decoders check every length against what is actually present and against
// a caller-given maximum before allocating, and never panic.
package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A frame on the wire:
//
//	offset  size  field
//	0       4     length N of what follows, big-endian, MinFrame <= N <= max
//	4       1     type (Type)
//	5       8     request id, big-endian, non-zero
//	13      N-9   body (depends on the type)
//
// The length field has Python's multiprocessing.connection shape (a 4-byte
// big-endian count before the payload), the same as the handshake messages.
const (
	lenSize    = 4
	typeOffset = lenSize
	idOffset   = typeOffset + 1
	HeaderSize = idOffset + 8 // bytes before the body
	// MinFrame is the smallest legal length field: a type and an id.
	MinFrame = HeaderSize - lenSize
	// MaxFrameLimit is the largest length field any configuration accepts.
	MaxFrameLimit = 1<<31 - 1
)

// Type says what a frame carries.
type Type uint8

const (
	// TypeRequest: client to server, a call (body: Request).
	TypeRequest Type = 1
	// TypeReply: server to client, a call's results (body: Reply).
	TypeReply Type = 2
	// TypeError: server to client, a call's failure (body: Error).
	TypeError Type = 3
	// TypeCancel: client to server, abandon the call with this id (empty
	// body). The server still answers the call, with its results if it had
	// finished or with a cancellation error.
	TypeCancel Type = 4

	typeEnd Type = 5 // one past the last type
)

func (t Type) String() string {
	switch t {
	case TypeRequest:
		return "request"
	case TypeReply:
		return "reply"
	case TypeError:
		return "error"
	case TypeCancel:
		return "cancel"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Errors from reading frames. A connection that produced one of them is out
// of step and must be closed.
var (
	// ErrFrameTooLarge: the length field exceeds the reader's maximum.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrMalformed: a frame or body that breaks the format (too short, an
	// unknown type, a zero id, a length that overruns its frame, ...).
	ErrMalformed = errors.New("malformed frame")
)

// A Frame is one decoded frame. Body is owned by the frame: ReadFrame never
// reuses it, so slices into it may be kept.
type Frame struct {
	Type Type
	ID   uint64
	Body []byte
}

// chunk is how much of a large body is allocated before its bytes arrive: a
// peer that announces a huge frame and sends nothing costs this much, not
// the announced size.
const chunk = 64 << 10

// ReadFrame reads one frame from r, refusing a length field above max (max
// is clamped to [MinFrame, MaxFrameLimit]). It returns io.EOF when r ends
// cleanly between frames, io.ErrUnexpectedEOF when it ends inside one,
// ErrFrameTooLarge or ErrMalformed (wrapped) for bad frames, and r's own
// errors (a deadline, a reset) as they come.
func ReadFrame(r io.Reader, max int) (Frame, error) {
	var hdr [HeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:lenSize]); err != nil {
		return Frame{}, err // io.EOF only when nothing at all was read
	}
	if _, err := CheckLength(hdr[:lenSize], max); err != nil {
		return Frame{}, err
	}
	if _, err := io.ReadFull(r, hdr[lenSize:]); err != nil {
		return Frame{}, noEOF(err)
	}
	f, n, err := ParseHeader(hdr[:], max)
	if err != nil {
		return Frame{}, err
	}
	if f.Body, err = ReadBody(r, n, nil); err != nil {
		return Frame{}, err
	}
	return f, nil
}

// CheckLength checks a frame's length field (the first 4 bytes of h)
// against max (clamped as ReadFrame clamps it) and returns the body's
// length.
func CheckLength(h []byte, max int) (int, error) {
	max = clampMax(max)
	n := binary.BigEndian.Uint32(h[:lenSize])
	if n > uint32(max) {
		return 0, fmt.Errorf("protocol: length %d > limit %d: %w", n, max, ErrFrameTooLarge)
	}
	if n < MinFrame {
		return 0, fmt.Errorf("protocol: length %d < %d: %w", n, MinFrame, ErrMalformed)
	}
	return int(n) - MinFrame, nil
}

// ParseHeader checks a frame's header (HeaderSize bytes of h) as ReadFrame
// does and returns the frame without its body, and the body's length, for
// a reader that reads the body itself (into a buffer it reuses).
func ParseHeader(h []byte, max int) (Frame, int, error) {
	n, err := CheckLength(h, max)
	if err != nil {
		return Frame{}, 0, err
	}
	f := Frame{Type: Type(h[typeOffset]), ID: binary.BigEndian.Uint64(h[idOffset:])}
	if f.Type == 0 || f.Type >= typeEnd {
		return Frame{}, 0, fmt.Errorf("protocol: %v: %w", f.Type, ErrMalformed)
	}
	if f.ID == 0 {
		return Frame{}, 0, fmt.Errorf("protocol: %v with id 0: %w", f.Type, ErrMalformed)
	}
	return f, n, nil
}

// ReadBody reads exactly n bytes into buf's storage when it holds them,
// else into storage grown as bytes arrive rather than trusting n up front.
func ReadBody(r io.Reader, n int, buf []byte) ([]byte, error) {
	if buf != nil && n <= cap(buf) {
		b := buf[:n]
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, noEOF(err)
		}
		return b, nil
	}
	if n <= chunk {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, noEOF(err)
		}
		return b, nil
	}
	b := make([]byte, 0, chunk)
	for len(b) < n {
		if len(b) == cap(b) {
			grown := make([]byte, len(b), min(2*cap(b), n))
			copy(grown, b)
			b = grown
		}
		// Read into the free capacity: slicing past len up to cap is legal.
		m, err := io.ReadFull(r, b[len(b):min(cap(b), n)])
		b = b[:len(b)+m]
		if err != nil {
			return nil, noEOF(err)
		}
	}
	return b, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func clampMax(max int) int {
	if max < MinFrame {
		return MinFrame
	}
	if max > MaxFrameLimit {
		return MaxFrameLimit
	}
	return max
}

// appendHeader starts a frame of type t and id in dst, leaving the length
// field to finish.
func appendHeader(dst []byte, t Type, id uint64) []byte {
	dst = append(dst, 0, 0, 0, 0, byte(t))
	return binary.BigEndian.AppendUint64(dst, id)
}

// finish writes the length field of the frame that starts at dst[start:].
func finish(dst []byte, start int) []byte {
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-lenSize))
	return dst
}

// AppendCancel appends a cancel frame for the call with id.
func AppendCancel(dst []byte, id uint64) []byte {
	start := len(dst)
	return finish(appendHeader(dst, TypeCancel, id), start)
}

// FrameLen returns the length field a complete frame (as built by the
// Append functions) carries, for checking it against a peer's maximum.
func FrameLen(frame []byte) int { return len(frame) - lenSize }
