package ringqueue

import (
	"sync/atomic"
	"time"
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
// reuse included). A claim of a dead claimant is reclaimed with one CAS
// from the exact word that was seen, to free at the next lap: the same
// transition as a normal release, so a race between two reclaimers, or
// between a reclaimer and a claimant that was not dead after all (which
// shm rules out), is won by exactly one.
//
// A participant found dead is remembered per handle (dead), so the other
// claims it left (a producer killed in PutBatch leaves several) are
// reclaimed without waiting again.
const claimCheckAfter = 10 * time.Millisecond

// reclaim frees b's slot if its claimant is dead and reports whether the
// slot is no longer held by that claim (freed now, or moved on already).
func (q *Queue) reclaim(b blocker) bool {
	tag := ctrlTag(b.word)
	if tag == q.self {
		return false // our own claim, held by another goroutine of this process
	}
	if q.dead.Load() != tag {
		if q.seg.Alive(tag) {
			return false
		}
		q.dead.Store(tag)
	}
	next := ctrlWord(ctrlLap(b.word)+1, 0, stateFree)
	if atomic.CompareAndSwapUint64(b.ctrl, b.word, next) {
		atomic.AddUint64(&q.lay.Wait.Reclaimed, 1)
		// Consumers may wait behind a skipped message, producers behind a
		// dropped one: let both look again.
		q.getGate().signalAll()
		q.putGate().signalAll()
	}
	return true
}

// knownDead reports whether b's claimant was already found dead.
func (q *Queue) knownDead(b blocker) bool {
	t := ctrlTag(b.word)
	return t != 0 && t == q.dead.Load()
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
