package ringqueue

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// Zero-copy forms. Reserve hands a producer the slot's own bytes to fill
// and Commit publishes them; Take hands a consumer the slot's bytes and
// Release frees the slot. Rules:
//
//   - The bytes are valid from Reserve/Take until Commit/Abort/Release and
//     not after: the slot may then be rewritten at any moment, by any
//     process. Copy out what must outlive Release.
//   - Every Reservation must end in Commit or Abort, every Message in
//     Release, and only once (a second call returns ErrNotHeld).
//   - While held, a slot holds up the ring at its position: consumers
//     wait for a reserved slot ahead of them, producers for a taken one a
//     lap behind. Hold briefly.
//   - MPMC: any number may be outstanding, in any goroutines. SPSC: one
//     Reservation and one Message per handle at a time, and no Put or Get
//     on that side meanwhile (ErrInvalid).
//   - A process that dies holding them: a Reservation is skipped (nothing
//     is delivered), a taken MPMC Message is lost (at most once), a taken
//     SPSC Message is delivered again to the next consumer (at least once).

// A Reservation is a claimed slot being filled by its producer.
type Reservation struct {
	q   *Queue
	pos uint64
	buf []byte
}

// Bytes returns the reserved bytes, of the length asked of Reserve.
func (r Reservation) Bytes() []byte { return r.buf }

// Commit publishes the first n bytes of the reservation as one message.
func (r Reservation) Commit(n int) error {
	q := r.q
	if q == nil {
		return fmt.Errorf("ringqueue: commit: %w", ErrNotHeld)
	}
	if n < 0 || n > len(r.buf) {
		return fmt.Errorf("ringqueue %q: commit: %w: %d bytes of a %d-byte reservation", q.name, ErrInvalid, n, len(r.buf))
	}
	if q.g.mode == SPSC {
		if !q.prod.held || q.prod.heldPos != r.pos {
			return q.errf("commit", ErrNotHeld)
		}
		q.prod.held = false
	} else if atomic.LoadUint64(slotCtrl(q.slot(r.pos))) != ctrlWord(q.lap(r.pos), q.self, stateWriting) {
		// Committed already, and the slot may be another's by now: do not
		// touch its length. (Only this claim's owner moves the slot on from
		// here, so the check cannot go stale before the write below.)
		return q.errf("commit", ErrNotHeld)
	}
	*q.slotLen(q.slot(r.pos)) = uint32(n)
	return q.publish(r.pos, 1)
}

// Abort gives the reservation up: no message is delivered for it. (MPMC:
// the slot is published marked skipped, and holds its place in the ring
// until a consumer passes over it.)
func (r Reservation) Abort() error {
	q := r.q
	if q == nil {
		return fmt.Errorf("ringqueue: abort: %w", ErrNotHeld)
	}
	if q.g.mode == SPSC {
		if !q.prod.held || q.prod.heldPos != r.pos {
			return q.errf("abort", ErrNotHeld)
		}
		q.prod.held = false
		return nil
	}
	if !q.mpmcSkip(r.pos) {
		return q.errf("abort", ErrNotHeld)
	}
	q.getGate().signal(1)
	return nil
}

// Reserve claims a slot for a message of n bytes (0..SlotSize), waiting
// while the queue is full, and returns it to be filled in place.
func (q *Queue) Reserve(n int) (Reservation, error) {
	return q.reserve(futex.Block(), n)
}

// TryReserve is Reserve without waiting (ErrFull).
func (q *Queue) TryReserve(n int) (Reservation, error) {
	return q.reserve(futex.NoWait(), n)
}

// ReserveContext is Reserve bounded by ctx.
func (q *Queue) ReserveContext(ctx context.Context, n int) (Reservation, error) {
	return q.reserve(futex.WithContext(ctx), n)
}

// ReserveTimeout is Reserve bounded by d (ErrTimeout, ErrFull).
func (q *Queue) ReserveTimeout(n int, d time.Duration) (Reservation, error) {
	return q.reserve(timeoutBound(d), n)
}

func (q *Queue) reserve(b futex.Bound, n int) (Reservation, error) {
	if n < 0 || n > q.g.slotSize {
		return Reservation{}, q.tooLarge("reserve", n)
	}
	pos, _, err := q.claimPut(b, 1)
	if err != nil {
		return Reservation{}, err
	}
	if q.g.mode == SPSC {
		q.prod.held, q.prod.heldPos = true, pos
	}
	return Reservation{q: q, pos: pos, buf: q.payload(q.slot(pos))[:n:n]}, nil
}

// A Message is a claimed slot being read by its consumer.
type Message struct {
	q   *Queue
	pos uint64
	buf []byte
}

// Bytes returns the message, in the slot itself.
func (m Message) Bytes() []byte { return m.buf }

// Release frees the message's slot for producers.
func (m Message) Release() error {
	q := m.q
	if q == nil {
		return fmt.Errorf("ringqueue: release: %w", ErrNotHeld)
	}
	if q.g.mode == SPSC {
		if !q.cons.held || q.cons.heldPos != m.pos {
			return q.errf("release", ErrNotHeld)
		}
		q.cons.held = false
	}
	return q.release(m.pos, 1)
}

// Take claims the next message, waiting while the queue is empty, and
// returns it in place. Once the queue is closed and drained it fails with
// ErrClosed.
func (q *Queue) Take() (Message, error) { return q.take(futex.Block()) }

// TryTake is Take without waiting (ErrEmpty).
func (q *Queue) TryTake() (Message, error) { return q.take(futex.NoWait()) }

// TakeContext is Take bounded by ctx.
func (q *Queue) TakeContext(ctx context.Context) (Message, error) {
	return q.take(futex.WithContext(ctx))
}

// TakeTimeout is Take bounded by d (ErrTimeout, ErrEmpty).
func (q *Queue) TakeTimeout(d time.Duration) (Message, error) {
	return q.take(timeoutBound(d))
}

func (q *Queue) take(b futex.Bound) (Message, error) {
	pos, _, err := q.claimGet(b, 1, -1)
	if err != nil {
		return Message{}, err
	}
	msg, ok := q.read(pos)
	if !ok {
		err := q.corrupt("take", pos)
		_ = q.release(pos, 1)
		return Message{}, err
	}
	if q.g.mode == SPSC {
		q.cons.held, q.cons.heldPos = true, pos
	}
	return Message{q: q, pos: pos, buf: msg[:len(msg):len(msg)]}, nil
}
