package procs

import (
	"errors"
	"fmt"

	"github.com/multiproc-go/multiproc/ringqueue"
)

// Errors of pipe connections.
var (
	// ErrEmpty: a TryRecv form found no whole message to receive. It is
	// the same value as ringqueue.ErrEmpty (Python's queue.Empty).
	ErrEmpty = ringqueue.ErrEmpty
	// ErrConnClosed: the connection was closed by this process.
	ErrConnClosed = errors.New("connection closed")
	// ErrNotReadable: Recv on the sending end of a one-way pipe.
	ErrNotReadable = errors.New("connection is send-only")
	// ErrNotWritable: Send on the receiving end of a one-way pipe.
	ErrNotWritable = errors.New("connection is receive-only")
	// ErrMessageTooLarge: a message exceeds the connection's maximum size.
	// On send nothing was written; on receive the frame's header announced
	// more than the maximum, which is treated as a malformed stream.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrMalformedFrame: the bytes read are not a frame (bad marker or kind,
	// a length beyond the maximum, or a stream cut mid-frame). The stream
	// cannot be resynchronised: every later receive returns the same error.
	ErrMalformedFrame = errors.New("malformed frame")
	// ErrNotValue: Recv found a raw message sent with SendBytes. The message
	// stays queued: read it with RecvBytes.
	ErrNotValue = errors.New("raw bytes message where a value was expected")
	// ErrBufferTooShort: RecvBytesInto's buffer cannot hold the next
	// message. The error is a *BufferTooShortError, which says how long
	// the message is; the message stays queued.
	ErrBufferTooShort = errors.New("buffer too short")
	// ErrCannotPass: a value holds shared objects or connections, and the
	// connection it is sent on cannot carry their descriptors (a one-way
	// pipe: use Pipe(true)), or holds more than one message can carry.
	ErrCannotPass = errors.New("descriptors cannot cross this connection")
	// ErrHasDescriptors: RecvBytes or RecvBytesInto found a message that
	// carries descriptors. The message stays queued: receive it with Recv.
	ErrHasDescriptors = errors.New("message carries descriptors (shared objects or connections): receive it with Recv")
)

// A BufferTooShortError is returned by RecvBytesInto when the next message
// is longer than the buffer. Nothing was consumed: call RecvBytesInto again
// with a buffer of at least Size bytes, or RecvBytes.
type BufferTooShortError struct {
	Size   int // the message's length
	Buffer int // the buffer's length
}

func (e *BufferTooShortError) Error() string {
	return fmt.Sprintf("procs: recv: buffer of %d bytes too short for a message of %d bytes", e.Buffer, e.Size)
}

// Is makes errors.Is(err, ErrBufferTooShort) true.
func (e *BufferTooShortError) Is(target error) bool { return target == ErrBufferTooShort }
