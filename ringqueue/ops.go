package ringqueue

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/multiproc-go/multiproc/shm"
)

// The mode-independent steps every put and get form is made of:
//
//	put: tryClaimPut -> write each position -> publish
//	get: tryClaimGet -> read each position  -> release
//
// tryClaim* never block: they return errWouldBlock (with a blocker when a
// claim, not a plain full or empty ring, holds the operation up) or a
// final, wrapped error. blocking.go loops over them.

var (
	// errShort: the next message is longer than the caller's buffer; its
	// length travels in the count result.
	errShort = errors.New("short buffer")
	// errHeld: an SPSC handle's Reservation or Message is outstanding.
	errHeld = fmt.Errorf("%w: this SPSC handle's reservation or taken message is still outstanding", ErrInvalid)
)

func (q *Queue) closed() bool { return atomic.LoadUint32(&q.lay.Hdr.Closed) != 0 }

// tryClaimPut claims up to max positions for writing.
func (q *Queue) tryClaimPut(max int) (uint64, int, blocker, error) {
	if q.g.mode == SPSC {
		pos, k, err := q.spscClaimPut(max)
		return pos, k, blocker{}, err
	}
	if q.closed() {
		// Not needed for exactness (the check after the claim is), but a
		// producer that keeps putting after Close would otherwise claim
		// and abandon a position per call.
		return 0, 0, blocker{}, q.errPutClosed
	}
	pos, k, b, err := q.mpmcClaimPut(max)
	if err == nil {
		// Claim, then check Closed (see the MPMC protocol): a producer
		// that sees Closed now gives its claims up.
		if q.closed() {
			for i := range k {
				q.mpmcSkip(pos + uint64(i))
			}
			q.getGate().signalAll()
			return 0, 0, blocker{}, q.errPutClosed
		}
		return pos, k, blocker{}, nil
	}
	if q.closed() {
		return 0, 0, blocker{}, q.errPutClosed
	}
	return 0, 0, b, err
}

// write fills claimed position pos with msg.
func (q *Queue) write(pos uint64, msg []byte) {
	s := q.slot(pos)
	*q.slotLen(s) = uint32(len(msg))
	copyMsg(q.payload(s), msg)
}

// publish makes positions [pos, pos+k) visible to consumers and wakes as
// many sleeping consumers.
func (q *Queue) publish(pos uint64, k int) error {
	if q.g.mode == SPSC {
		if err := q.spscPublish(pos, k); err != nil {
			return err
		}
	} else {
		for i := range k {
			if !q.mpmcPublish(pos + uint64(i)) {
				return q.errf("put", ErrNotHeld)
			}
		}
	}
	q.getGate().signal(k)
	return nil
}

// abandon gives up claimed positions [pos, pos+k) without delivering
// them: MPMC publishes them marked skipped (consumers pass over them), SPSC
// simply never publishes.
func (q *Queue) abandon(pos uint64, k int) {
	if q.g.mode == SPSC {
		return
	}
	for i := range k {
		q.mpmcSkip(pos + uint64(i))
	}
	// Consumers may wait behind these claims.
	q.getGate().signal(k)
}

// tryClaimGet claims up to max messages; bufLen >= 0 asks that the first
// fit in bufLen bytes (errShort, with its length as the count, if not).
func (q *Queue) tryClaimGet(max int, bufLen int) (uint64, int, blocker, error) {
	if q.g.mode == SPSC {
		pos, k, err := q.spscClaimGet(max, bufLen)
		return pos, k, blocker{}, err
	}
	pos, k, b, err := q.mpmcClaimGet(max, bufLen)
	if err != errWouldBlock || b.ctrl != nil {
		// Got messages, a short buffer, or a producer's claim to wait
		// for: a claim is waited for even when closed, since it may still
		// be published.
		return pos, k, b, err
	}
	if !q.closed() {
		return 0, 0, b, err
	}
	// Empty and closed: look once more, after having seen Closed, so that
	// a producer that claimed before Close is seen (MPMC protocol).
	pos, k, b, err = q.mpmcClaimGet(max, bufLen)
	if err == errWouldBlock && b.ctrl == nil {
		return 0, 0, b, q.errGetClosed
	}
	return pos, k, b, err
}

// read returns the message at claimed position pos. A length word longer
// than the slot is corrupt: ok is false and msg is empty.
func (q *Queue) read(pos uint64) (msg []byte, ok bool) {
	s := q.slot(pos)
	n := *q.slotLen(s)
	if n > uint32(q.g.slotSize) {
		return nil, false
	}
	return q.payload(s)[:n], true
}

// release frees claimed positions [pos, pos+k) for producers and wakes as
// many sleeping producers.
func (q *Queue) release(pos uint64, k int) error {
	if q.g.mode == SPSC {
		q.spscRelease(pos, k)
	} else {
		for i := range k {
			if !q.mpmcRelease(pos + uint64(i)) {
				return q.errf("get", ErrNotHeld)
			}
		}
	}
	q.putGate().signal(k)
	return nil
}

func (q *Queue) corrupt(op string, pos uint64) error {
	return fmt.Errorf("ringqueue %q: %s: message %d: length %d > slot size %d: %w",
		q.name, op, pos, *q.slotLen(q.slot(pos)), q.g.slotSize, shm.ErrCorrupt)
}
