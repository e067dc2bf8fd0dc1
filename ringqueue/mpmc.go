package ringqueue

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/multiproc-go/multiproc/shm"
)

// MPMC protocol.
//
// Positions 0, 1, 2, ... are handed out in order; position p lives in slot
// p mod Capacity at lap L = p / Capacity. Tail is the next position to
// write, Head the next to read. Each slot has a control word (layout.go):
// (lap, tag, state). Every transition of a slot either keeps its lap or
// raises it by one, and no state ever recurs:
//
//	free(L) --producer CAS--> writing(L,tag) --CAS--> full(L)
//	full(L) --consumer CAS--> reading(L,tag) --CAS--> free(L+1)
//
// and, for claims whose claimant is dead (recover.go):
//
//	writing(L,dead) --CAS--> writing(L,self) --CAS--> full(L) marked skipped
//	reading(L,dead) --CAS--> free(L+1)
//
// Claims are made on the slot word itself, with one CAS that writes the
// claimant's participant tag: from the first instant, the claim names who
// made it, so a claim whose claimant died can be told from a slow one
// (an ID is never handed to another process: shm's participant.go). The
// indices only follow the claims:
//
//   - A producer loads Tail = p and the slot's word c.
//     c = free(L): CAS it to writing(L,self); the winner owns p, and then
//     moves Tail from p to p+1 (CAS; failing means a helper already did).
//     c at lap L but not free, or free(L+1): p is already claimed (and
//     maybe done with), Tail is stale: help, CAS Tail p -> p+1, and retry.
//     c at lap L-1: the message of position p-Capacity is still there
//     (full) or still being written or read: the queue is full at p.
//   - A consumer loads Head = p and the slot's word c.
//     c = full(L): CAS it to reading(L,self); the winner owns the message,
//     then moves Head p -> p+1. A message marked skipped (Len = skipLen)
//     is released at once and passed over.
//     c = reading(L), or lap L+1 other than reading: p is taken or done
//     with, Head is stale: help and retry.
//     c = writing(L): a producer is writing p: wait for it.
//     c = free(L), or at lap L-1: nothing has been claimed at p: empty.
//   - Any other word, with the index unchanged since it was loaded, is
//     corrupt: an error, never a loop over 2^42 laps.
//
// Why this is right:
//   - An index moves past p only once p's slot shows a claim at lap L (or
//     a later lap, which implies one), so it never skips an unclaimed
//     position: there are no holes for a consumer to wait on forever.
//   - Since free(L) occurs once per slot and lap, at most one producer
//     claims p; since full(L) occurs once, at most one consumer delivers
//     p's message: never twice.
//   - A consumer reads the payload only in reading(L,self), which it
//     entered from full(L), which the producer stored after writing the
//     payload (Go's atomics are sequentially consistent: the payload
//     writes happen before the publishing CAS, that CAS before the
//     consumer's). No producer writes the slot again before the consumer
//     frees it. So a message is read whole.
//   - A slot becomes free for lap L+1 only through a consumer's claim at
//     lap L, so producers never run more than a ring (plus the claims
//     consumers have not yet moved Head over) ahead of Head. That is why a
//     message that will not be delivered is published marked skipped
//     rather than freed: freeing it at the tail would let Tail run round
//     the ring past a Head that no consumer moved.
//   - A stale load is harmless: a CAS on a word or an index that moved on
//     fails, and the loop reloads. Stale laps are compared modulo 2^42
//     (lapDiff), safe while a thread is less than 2^41 laps behind.
//
// A dead claimant (recover.go): whoever waits behind a writing or reading
// claim checks, after claimCheckAfter, whether its tag is alive. A dead
// producer's claim is taken over and published marked skipped: its
// half-written message is never delivered (absent, never torn), and
// consumers pass the slot as usual. A dead consumer's claim is freed: the
// message it held is dropped (at most once). If the dead producer had not
// yet moved Tail, Head may pass Tail by the skipped positions until the
// next producer helps Tail along; Len clamps.
//
// Close (close.go) and MPMC: a producer checks Closed after its claim (and,
// to waste no positions, before). A producer that claimed and then sees
// Closed publishes its claim marked skipped and returns ErrClosed; one
// that sees it open publishes. A consumer that finds the queue empty loads
// Closed, then looks again: if Closed was set before its second look, any
// producer that will still publish claimed before Close, so the second
// look sees its claim (writing) and waits for it. Hence after a consumer's
// ErrClosed no message can appear.

func (q *Queue) slot(pos uint64) unsafe.Pointer {
	return unsafe.Add(q.slots, (pos&q.mask)*q.g.stride)
}

func (q *Queue) lap(pos uint64) uint64 { return (pos >> q.g.shift) & lapMask }

func slotCtrl(s unsafe.Pointer) *uint64 { return (*uint64)(s) }

// slotLen is the message length word: written plainly by the slot's owner
// before publication and read by the next owner after, so the control
// word's atomics order it. x86 aligned 4-byte accesses are single-copy
// atomic, which the speculative read in mpmcClaimGet relies on.
func (q *Queue) slotLen(s unsafe.Pointer) *uint32 {
	if q.g.mode == SPSC {
		return (*uint32)(s)
	}
	return (*uint32)(unsafe.Add(s, 8))
}

func (q *Queue) payload(s unsafe.Pointer) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(s, q.g.slotHeader)), q.g.slotSize)
}

// blocker names a claimed slot that holds up an operation: its word as
// seen, so that a waiter can check the claimant and reclaim exactly that
// claim.
type blocker struct {
	ctrl *uint64
	word uint64
}

// advance moves idx from at least from to to, over positions [from, to)
// that the caller has claimed: any value in that range may jump to to.
func advance(idx *uint64, from, to uint64) {
	if atomic.CompareAndSwapUint64(idx, from, to) {
		return
	}
	for {
		cur := atomic.LoadUint64(idx)
		if int64(cur-to) >= 0 || int64(cur-from) < 0 {
			return // helpers got there first (cur < from cannot happen)
		}
		if atomic.CompareAndSwapUint64(idx, cur, to) {
			return
		}
	}
}

// mpmcClaimPut claims up to max consecutive positions for writing and
// returns the first and how many. With none free it returns errWouldBlock
// and, if a claim (not a published message) holds the slot, its blocker.
func (q *Queue) mpmcClaimPut(max int) (uint64, int, blocker, error) {
	tail := &q.lay.Tail.Index
	for {
		pos := atomic.LoadUint64(tail)
		s := q.slot(pos)
		c := atomic.LoadUint64(slotCtrl(s))
		L := q.lap(pos)
		d := lapDiff(ctrlLap(c), L)
		switch {
		case d == 0 && ctrlState(c) == stateFree:
			if !atomic.CompareAndSwapUint64(slotCtrl(s), c, ctrlWord(L, q.self, stateWriting)) {
				continue
			}
			k := 1
			for k < max {
				p := pos + uint64(k)
				sk := q.slot(p)
				Lk := q.lap(p)
				if !atomic.CompareAndSwapUint64(slotCtrl(sk), ctrlWord(Lk, 0, stateFree), ctrlWord(Lk, q.self, stateWriting)) {
					break
				}
				k++
			}
			advance(tail, pos, pos+uint64(k))
			return pos, k, blocker{}, nil
		case d == 0 || (d == 1 && ctrlState(c) == stateFree):
			// Claimed at this lap (or claimed, consumed or skipped: free
			// for the next): Tail is stale. Help it on.
			atomic.CompareAndSwapUint64(tail, pos, pos+1)
		case d == -1:
			// The previous lap's message is still in the slot: full. If
			// it is a claim rather than a published message, name it.
			if st := ctrlState(c); st == stateWriting || st == stateReading {
				return 0, 0, blocker{slotCtrl(s), c}, errWouldBlock
			}
			return 0, 0, blocker{}, errWouldBlock
		default:
			// Further laps apart: only possible if Tail moved on since we
			// loaded it. If it did not, the word is corrupt, and helping
			// Tail along would run for up to 2^42 laps.
			if atomic.LoadUint64(tail) == pos {
				return 0, 0, blocker{}, q.corruptSlot("put", pos, c)
			}
		}
	}
}

// mpmcPublish turns the claim on pos into a published message. It fails
// only if the claim is no longer this process's (misuse: published twice).
func (q *Queue) mpmcPublish(pos uint64) bool {
	L := q.lap(pos)
	return atomic.CompareAndSwapUint64(slotCtrl(q.slot(pos)), ctrlWord(L, q.self, stateWriting), ctrlWord(L, 0, stateFull))
}

// mpmcSkip publishes this process's claim on pos as a skipped message:
// consumers pass over it, nothing is delivered. (The claim is ours, so
// nobody else writes Len meanwhile.)
func (q *Queue) mpmcSkip(pos uint64) bool {
	s := q.slot(pos)
	if atomic.LoadUint64(slotCtrl(s)) != ctrlWord(q.lap(pos), q.self, stateWriting) {
		return false
	}
	*q.slotLen(s) = skipLen
	return q.mpmcPublish(pos)
}

// mpmcRelease frees this process's reading claim on pos for the next lap.
func (q *Queue) mpmcRelease(pos uint64) bool {
	L := q.lap(pos)
	return atomic.CompareAndSwapUint64(slotCtrl(q.slot(pos)), ctrlWord(L, q.self, stateReading), ctrlWord(L+1, 0, stateFree))
}

// mpmcClaimGet claims up to max consecutive published messages and
// returns the first position and how many. If bufLen >= 0 and the first
// message is longer, it returns errShort (with the length) and claims
// nothing: the message stays queued. With none published it returns
// errWouldBlock and, if a producer's claim holds the head slot, its
// blocker.
func (q *Queue) mpmcClaimGet(max int, bufLen int) (uint64, int, blocker, error) {
	head := &q.lay.Head.Index
	for {
		pos := atomic.LoadUint64(head)
		s := q.slot(pos)
		c := atomic.LoadUint64(slotCtrl(s))
		L := q.lap(pos)
		d := lapDiff(ctrlLap(c), L)
		switch {
		case d == 0 && ctrlState(c) == stateFull:
			if bufLen >= 0 && bufLen < q.g.slotSize {
				// Speculative: if the CAS below would fail, this length
				// may be another message's; it is only used if the word
				// still reads full(L), when it is this message's.
				n := atomic.LoadUint32(q.slotLen(s))
				if n != skipLen && int(n) > bufLen && atomic.LoadUint64(slotCtrl(s)) == c {
					return pos, int(n), blocker{}, errShort
				}
			}
			if !atomic.CompareAndSwapUint64(slotCtrl(s), c, ctrlWord(L, q.self, stateReading)) {
				continue
			}
			if *q.slotLen(s) == skipLen {
				q.passSkipped(pos)
				continue
			}
			k, end := 1, uint64(1)
			for k < max {
				p := pos + uint64(k)
				sk := q.slot(p)
				Lk := q.lap(p)
				if !atomic.CompareAndSwapUint64(slotCtrl(sk), ctrlWord(Lk, 0, stateFull), ctrlWord(Lk, q.self, stateReading)) {
					break
				}
				if *q.slotLen(sk) == skipLen {
					// Not part of the batch: free it, and move Head past it
					// with the rest.
					q.mpmcRelease(p)
					q.putGate().signal(1)
					end++
					break
				}
				k++
				end++
			}
			advance(head, pos, pos+end)
			return pos, k, blocker{}, nil
		case d == 0 && ctrlState(c) == stateReading, d == 1 && ctrlState(c) != stateReading:
			// Claimed by a consumer, or consumed (and maybe written again
			// for the next lap): Head is stale. Help it on.
			atomic.CompareAndSwapUint64(head, pos, pos+1)
		case d == 0 && ctrlState(c) == stateWriting:
			return 0, 0, blocker{slotCtrl(s), c}, errWouldBlock
		case d == 0 || d == -1:
			// free(L), or the previous lap's claim still in the slot
			// (nothing can be written at p until it is released): empty.
			return 0, 0, blocker{}, errWouldBlock
		default:
			// As in mpmcClaimPut: corrupt unless Head moved on.
			if atomic.LoadUint64(head) == pos {
				return 0, 0, blocker{}, q.corruptSlot("get", pos, c)
			}
		}
	}
}

// passSkipped frees a skipped message this consumer just claimed at pos
// and moves Head past it.
func (q *Queue) passSkipped(pos uint64) {
	q.mpmcRelease(pos)
	advance(&q.lay.Head.Index, pos, pos+1)
	q.putGate().signal(1)
}

// corruptSlot is the error for a control word that no run of the
// protocol can produce at pos.
func (q *Queue) corruptSlot(op string, pos, c uint64) error {
	return fmt.Errorf("ringqueue %q: %s: slot word %#x (lap %d) at position %d (lap %d): %w",
		q.name, op, c, ctrlLap(c), pos, q.lap(pos), shm.ErrCorrupt)
}
