package ringqueue

import "sync/atomic"

// ReclaimLastClaim does what a waiter held up by the MPMC claim just
// behind Tail does once it has waited long enough: it reclaims the claim
// if its claimant is dead (or known dead). It reports whether the claim
// was taken from its claimant.
func (q *Queue) ReclaimLastClaim() bool {
	pos := atomic.LoadUint64(&q.lay.Tail.Index) - 1
	ctrl := slotCtrl(q.slot(pos))
	w := atomic.LoadUint64(ctrl)
	if s := ctrlState(w); s != stateWriting && s != stateReading {
		return false
	}
	return q.reclaim(blocker{ctrl: ctrl, word: w}) && atomic.LoadUint64(ctrl) != w
}
