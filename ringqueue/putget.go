package ringqueue

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// Put copies msg (0..SlotSize bytes) into the queue, waiting while it is
// full. It fails with ErrClosed once the queue is closed, and with
// ErrTooLarge, queueing nothing, for a message longer than a slot.
func (q *Queue) Put(msg []byte) error { return q.put(futex.Block(), msg) }

// TryPut is Put without waiting: ErrFull when no slot is free.
func (q *Queue) TryPut(msg []byte) error { return q.put(futex.NoWait(), msg) }

// PutContext is Put that gives up when ctx ends, returning its error
// (wrapped); the message is then not queued.
func (q *Queue) PutContext(ctx context.Context, msg []byte) error {
	return q.put(futex.WithContext(ctx), msg)
}

// PutTimeout is Put that gives up after d with an error that is both
// ErrTimeout and ErrFull; the message is then not queued.
func (q *Queue) PutTimeout(msg []byte, d time.Duration) error {
	return q.put(timeoutBound(d), msg)
}

func (q *Queue) put(b futex.Bound, msg []byte) error {
	if len(msg) > q.g.slotSize {
		return q.tooLarge("put", len(msg))
	}
	if q.g.mode == SPSC {
		if s, t, ok := q.spscPutBegin(); ok {
			*(*uint32)(s) = uint32(len(msg))
			if dst := unsafe.Slice((*byte)(unsafe.Add(s, spscSlotHeader)), len(msg)); !wideMoves || len(msg) < wideMin {
				copy(dst, msg)
			} else {
				copyWide(dst, msg)
			}
			if q.spscPutEnd(t) {
				return nil
			}
		}
	}
	pos, _, err := q.claimPut(b, 1)
	if err != nil {
		return err
	}
	q.write(pos, msg)
	return q.publish(pos, 1)
}

// Get copies the next message into buf and returns its length, waiting
// while the queue is empty. Once the queue is closed and drained it fails
// with ErrClosed. If buf is shorter than the message it fails with
// ErrShortBuffer and leaves the message queued: a buffer of SlotSize bytes
// always suffices.
func (q *Queue) Get(buf []byte) (int, error) {
	return q.get(futex.Block(), buf)
}

// TryGet is Get without waiting: ErrEmpty when no message is ready.
func (q *Queue) TryGet(buf []byte) (int, error) { return q.get(futex.NoWait(), buf) }

// GetContext is Get that gives up when ctx ends, returning its error (wrapped).
func (q *Queue) GetContext(ctx context.Context, buf []byte) (int, error) {
	return q.get(futex.WithContext(ctx), buf)
}

// GetTimeout is Get that gives up after d with an error that is both
// ErrTimeout and ErrEmpty.
func (q *Queue) GetTimeout(buf []byte, d time.Duration) (int, error) {
	return q.get(timeoutBound(d), buf)
}

func (q *Queue) get(b futex.Bound, buf []byte) (int, error) {
	if q.g.mode == SPSC {
		if s, h, ok := q.spscGetBegin(); ok {
			if n := *(*uint32)(s); int(n) <= len(buf) && int(n) <= q.g.slotSize {
				if src := unsafe.Slice((*byte)(unsafe.Add(s, spscSlotHeader)), n); !wideMoves || n < wideMin {
					copy(buf, src)
				} else {
					copyWide(buf, src)
				}
				q.spscGetEnd(h)
				return int(n), nil
			}
		}
	}
	pos, n, err := q.claimGet(b, 1, len(buf))
	if err != nil {
		if err == errShort {
			return 0, fmt.Errorf("ringqueue %q: get: %w: message of %d bytes, buffer of %d", q.name, ErrShortBuffer, n, len(buf))
		}
		return 0, err
	}
	msg, ok := q.read(pos)
	n = copyMsg(buf, msg)
	if !ok {
		err = q.corrupt("get", pos)
	}
	if rerr := q.release(pos, 1); err == nil {
		err = rerr
	}
	return n, err
}
