package ringqueue

import (
	"sync/atomic"
	"time"
	"unsafe"
)

// Crash recovery (MPMC; SPSC needs none beyond taking a dead holder's
// role over, see spsc.go).
//
// A claim names its claimant (the slot word holds its participant tag),
// so whoever is held up by a claim can ask shm whether the claimant still
// runs. Asking reads /proc (microseconds), so it is done only for a claim
// that has blocked a waiter for claimCheckAfter, and then at most every
// claimCheckAfter while it goes on blocking: a live claimant writing a
// large message or a consumer holding a zero-copy Message for long is
// never taken for dead (shm.Alive never reports a live process dead, pid
// reuse included). A claim of a dead claimant is reclaimed with a CAS from
// the exact word that was seen, so a race between two reclaimers is won by
// exactly one: a dead consumer's reading claim is freed for the next lap
// (as its release would have), a dead producer's writing claim is taken
// over by the reclaimer and published marked skipped (mpmc.go says why it
// is not simply freed).
//
// A claim carries its claimant's short ID (layout.go), so "dead" means no
// live participant bears that short form (shm.Segment.AliveShort): the
// claimant of a live claim is its slot's current occupant, so a live
// claim is never taken over, whatever number of processes came and went.
//
// A claimant found dead is remembered per handle (dead), so the other
// claims it left (a producer killed in PutBatch leaves several) are
// reclaimed without waiting again. The verdict carries the participant
// slot's stamp (shm.Segment.Stamp) read before the check, and is trusted
// only while the slot still reads the same: once another process has
// claimed the slot, its claims may bear the same short form, and the old
// verdict would hand a live producer's reservation to a reclaimer, whose
// skip mark and the producer's bytes would then tear the message.
const claimCheckAfter = 10 * time.Millisecond

// reclaim frees b's slot if its claimant is dead and reports whether the
// slot is no longer held by that claim (freed now, or moved on already).
func (q *Queue) reclaim(b blocker) bool {
	tag := ctrlTag(b.word)
	if tag == q.self {
		return false // our own claim, held by another goroutine of this process
	}
	if !q.knownDead(b) {
		stamp := q.seg.Stamp(uint64(tag))
		if q.seg.AliveShort(tag) || q.seg.Stamp(uint64(tag)) != stamp {
			return false // alive, or the slot changed while we looked: ask later
		}
		q.dead.Store(&deadVerdict{short: tag, stamp: stamp})
	}
	lap := ctrlLap(b.word)
	switch ctrlState(b.word) {
	case stateWriting:
		// Take the claim over, then publish it marked skipped: the half
		// message is never delivered, and consumers pass the slot as
		// usual. Only the winner of the takeover writes Len.
		mine := ctrlWord(lap, q.self, stateWriting)
		if !atomic.CompareAndSwapUint64(b.ctrl, b.word, mine) {
			return true // someone else reclaimed it, or it moved on
		}
		*(*uint32)(unsafe.Add(unsafe.Pointer(b.ctrl), 8)) = skipLen
		atomic.CompareAndSwapUint64(b.ctrl, mine, ctrlWord(lap, 0, stateFull))
	case stateReading:
		// The consumer held the message: it is dropped, the slot freed.
		if !atomic.CompareAndSwapUint64(b.ctrl, b.word, ctrlWord(lap+1, 0, stateFree)) {
			return true
		}
	default:
		return true
	}
	atomic.AddUint64(&q.lay.Wait.Reclaimed, 1)
	// Consumers may wait behind a dead producer's claim, producers behind
	// a dead consumer's: let both look again.
	q.getGate().signalAll()
	q.putGate().signalAll()
	return true
}

// deadVerdict is a claimant found dead, and the stamp of its participant
// slot when it was.
type deadVerdict struct {
	short uint32
	stamp uint64
}

// knownDead reports whether b's claimant was already found dead and its
// participant slot has not changed since.
func (q *Queue) knownDead(b blocker) bool {
	t := ctrlTag(b.word)
	v := q.dead.Load()
	return t != 0 && v != nil && t == v.short && q.seg.Stamp(uint64(t)) == v.stamp
}

// claimWatch times how long one claim has blocked a waiter.
type claimWatch struct {
	word    uint64
	since   time.Time
	checked time.Time
}

// due reports whether b has blocked long enough to check its claimant.
func (w *claimWatch) due(b blocker, now time.Time) bool {
	if w.word != b.word {
		w.word, w.since, w.checked = b.word, now, time.Time{}
		return false
	}
	if now.Sub(w.since) < claimCheckAfter || now.Sub(w.checked) < claimCheckAfter {
		return false
	}
	w.checked = now
	return true
}

// stuckWatch is claimWatch for the Try forms, which keep no state between
// calls: it lives in the handle, shared by its goroutines (races between
// them only make a check come early or late).
type stuckWatch struct {
	word  atomic.Uint64
	since atomic.Int64
}

// due reports whether b has been seen blocking Try calls for claimCheckAfter.
func (w *stuckWatch) due(b blocker) bool {
	now := time.Now().UnixNano()
	if w.word.Load() != b.word {
		w.word.Store(b.word)
		w.since.Store(now)
		return false
	}
	if time.Duration(now-w.since.Load()) < claimCheckAfter {
		return false
	}
	w.since.Store(now) // check again only after another period
	return true
}

// tryRecover is the Try forms' recovery: after a would-block with a
// blocker, reclaim it if its claimant is known dead or has blocked Try
// calls for claimCheckAfter and is dead. It reports whether to retry.
func (q *Queue) tryRecover(b blocker) bool {
	if b.ctrl == nil {
		return false
	}
	if q.knownDead(b) || q.stuck.due(b) {
		return q.reclaim(b)
	}
	return false
}
