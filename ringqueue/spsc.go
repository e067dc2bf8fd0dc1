package ringqueue

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// SPSC protocol.
//
// One producer and one consumer, so the slots need no control words: Tail
// counts messages published, Head messages consumed, and slot i of the
// ring holds position p when p mod Capacity = i.
//
//	producer: write Len and payload of positions [t, t+k), then CAS Tail
//	          t -> t+k (one index update per batch).
//	consumer: read positions [h, t), then store Head h+k.
//
// Each side caches the other's index in its handle and reloads it only
// when the cached value says full (producer) or empty (consumer), so in a
// run of messages neither touches the other's line: that is what lets
// the sides batch instead of falling into lock-step.
//
// Publication is by the index alone, after the payload is written, so a
// producer killed mid-put leaves nothing torn: its unpublished writes lie
// beyond Tail and the next producer overwrites them. A consumer killed
// before storing Head leaves its messages to the next consumer: a message
// copied out by a dead Get is delivered again (the dead Get never
// returned it); one handed out by Take or GetBatch whose consumer died
// before Release/return is also delivered again (at least once).
//
// Close sets spscClosedBit in Tail (CAS loop). The producer publishes with
// a CAS from the Tail it loaded, so a publication after Close fails with
// ErrClosed, and a consumer that reads an empty, closed Tail knows nothing
// more will come.
//
// Roles. Each index line holds the ID (shm.Segment.Self, never handed to
// another process) of its side's holder.
// A handle takes the role on first use: free (0), its own, or held by a
// dead participant (taken over with a CAS); a role held by another live
// process is ErrRole. Roles are released by Detach or when the holder's
// process detaches from the segment or dies. Within one process the ID
// is the same for every goroutine: the package cannot tell two producing
// goroutines apart, and two at once corrupt the indices (never memory:
// every access is masked into the ring and lengths are checked).

// spscSide is one side's handle-local state.
type spscSide struct {
	role    bool   // this handle holds the side's role
	cached  uint64 // producer: a Head seen; consumer: a Tail seen (no closed bit)
	held    bool   // a Reservation (producer) or Message (consumer) is outstanding
	heldPos uint64
}

// spscAcquire takes line's role for side.
func (q *Queue) spscAcquire(line *indexLine, side *spscSide, op string, other *uint64) error {
	for {
		r := atomic.LoadUint64(&line.Role)
		switch {
		case r == q.id:
		case r == 0 || !q.seg.Alive(r):
			if !atomic.CompareAndSwapUint64(&line.Role, r, q.id) {
				continue
			}
		default:
			return fmt.Errorf("ringqueue %q: %s: %w (participant %#x)", q.name, op, ErrRole, r)
		}
		side.role = true
		side.held = false
		side.cached = atomic.LoadUint64(other) &^ spscClosedBit
		return nil
	}
}

// spscClaimPut reserves up to max positions for writing.
func (q *Queue) spscClaimPut(max int) (uint64, int, error) {
	p := &q.prod
	if !p.role {
		if err := q.spscAcquire(&q.lay.Tail, p, "put", &q.lay.Head.Index); err != nil {
			return 0, 0, err
		}
	}
	if p.held {
		return 0, 0, q.errf("put", errHeld)
	}
	t := atomic.LoadUint64(&q.lay.Tail.Index)
	if t&spscClosedBit != 0 {
		return 0, 0, q.errPutClosed
	}
	used := t - p.cached
	if used+uint64(max) > q.g.capacity {
		p.cached = atomic.LoadUint64(&q.lay.Head.Index)
		used = t - p.cached
		if used >= q.g.capacity { // (a Head past Tail is corrupt: it reads as full)
			return 0, 0, errWouldBlock
		}
	}
	return t, int(min(uint64(max), q.g.capacity-used)), nil
}

// spscPublish publishes positions [pos, pos+k) with one CAS of Tail.
func (q *Queue) spscPublish(pos uint64, k int) error {
	tail := &q.lay.Tail.Index
	if atomic.CompareAndSwapUint64(tail, pos, pos+uint64(k)) {
		return nil
	}
	if atomic.LoadUint64(tail)&spscClosedBit != 0 {
		return q.errPutClosed
	}
	// Tail moved under us: another producer (misuse) or a takeover.
	q.prod.role = false
	return q.errf("put", ErrNotHeld)
}

// spscClaimGet finds up to max messages at Head. If bufLen >= 0 and the
// first is longer, it returns errShort with its length.
func (q *Queue) spscClaimGet(max int, bufLen int) (uint64, int, error) {
	c := &q.cons
	if !c.role {
		if err := q.spscAcquire(&q.lay.Head, c, "get", &q.lay.Tail.Index); err != nil {
			return 0, 0, err
		}
	}
	if c.held {
		return 0, 0, q.errf("get", errHeld)
	}
	h := atomic.LoadUint64(&q.lay.Head.Index)
	avail := c.cached - h
	if avail == 0 || avail > q.g.capacity {
		t := atomic.LoadUint64(&q.lay.Tail.Index)
		c.cached = t &^ spscClosedBit
		avail = c.cached - h
		if avail == 0 {
			if t&spscClosedBit != 0 {
				return 0, 0, q.errGetClosed
			}
			return 0, 0, errWouldBlock
		}
		avail = min(avail, q.g.capacity) // a Tail a ring past Head is corrupt; stay in the ring
	}
	if bufLen >= 0 && bufLen < q.g.slotSize {
		if n := int(*q.slotLen(q.slot(h))); n > bufLen {
			return h, n, errShort
		}
	}
	return h, int(min(uint64(max), avail)), nil
}

// spscRelease hands positions up to pos+k back to the producer.
func (q *Queue) spscRelease(pos uint64, k int) {
	atomic.StoreUint64(&q.lay.Head.Index, pos+uint64(k))
}

// The fast paths of Put and Get (and of the typed raw put and get, which
// copy a T instead of bytes) are made of two halves each, so that the
// copy between them is the caller's: role held, room or a message known
// from the cached index, and, for puts, queue open. A half that reports
// false has changed nothing; the general path then decides.

// spscPutBegin is the first half of the put fast path: it returns
// the slot of position t, free for writing, or false when the role is
// not held, a Reservation is outstanding or the cached Head says full.
func (q *Queue) spscPutBegin() (s unsafe.Pointer, t uint64, ok bool) {
	p := &q.prod
	if !p.role || p.held {
		return nil, 0, false
	}
	t = atomic.LoadUint64(&q.lay.Tail.Index)
	// With the closed bit set, t-cached is huge: not taken.
	if t-p.cached >= q.g.capacity {
		return nil, 0, false
	}
	return q.slot(t), t, true
}

// spscPutEnd publishes position t, written after spscPutBegin. False:
// closed meanwhile (nothing published; the general path reports it).
func (q *Queue) spscPutEnd(t uint64) bool {
	if !atomic.CompareAndSwapUint64(&q.lay.Tail.Index, t, t+1) {
		return false
	}
	q.getGate().signal(1)
	return true
}

// spscGetBegin is the first half of the get fast path: it returns the slot of position h, published and
// not yet read, or false when the role is not held, a Message is
// outstanding or the cached Tail shows nothing. The caller checks the
// length word before it reads.
func (q *Queue) spscGetBegin() (s unsafe.Pointer, h uint64, ok bool) {
	c := &q.cons
	if !c.role || c.held {
		return nil, 0, false
	}
	h = atomic.LoadUint64(&q.lay.Head.Index)
	if c.cached-h-1 >= q.g.capacity { // none cached (or a stale cache)
		return nil, 0, false
	}
	return q.slot(h), h, true
}

// spscGetEnd frees position h, read after spscGetBegin.
func (q *Queue) spscGetEnd(h uint64) {
	atomic.StoreUint64(&q.lay.Head.Index, h+1)
	q.putGate().signal(1)
}
