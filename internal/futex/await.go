package futex

import (
	"errors"
	"time"
)

// ErrWouldBlock is Await's answer to a NoWait bound whose one check
// failed; callers turn it into their own error (a Try form's).
var ErrWouldBlock = errors.New("futex: would block")

// uncountedSlice bounds each sleep of a caller that a full sleepers count
// left uncounted: a waker may skip it.
const uncountedSlice = 10 * time.Millisecond

// A Waiter is what one blocking call waits for and how; its Bound,
// how long it may wait, is Await's other argument (kept apart so that
// the context in it does not make the Waiter's funcs escape: the
// uncontended paths allocate nothing).
type Waiter struct {
	// Policy says how it spins before it parks.
	Policy Policy
	// Ready reports whether the wait is over. It may take what the
	// caller waits for (a unit, a slot) and report true only then; Await
	// returns nil exactly when Ready has reported true.
	Ready func() bool
	// Check, if not nil, runs after each failed Ready while the caller
	// is registered, before it sleeps: the place for a liveness check of
	// whoever the caller waits for (a lock holder, a barrier member, a
	// slot's claimant). It reports whether it changed something (retry:
	// re-check at once) and the longest the coming sleep may last
	// (max < 0: no cap), so that the next check comes in time. It keeps
	// its own clock: it is called after every wake-up, too.
	Check func() (retry bool, max time.Duration)
}

// Await waits on g until w.Ready reports true, as b allows: it spins by
// w.Policy, then registers on g, re-checks, and parks in slices until
// Ready holds. Ready is called at least once. Await returns nil when
// Ready held, ErrWouldBlock for a NoWait bound (Ready checked once), the
// bound's error (errs.ErrTimeout, or its context's error) when it ran
// out, or a futex error (another platform). A caller that gives up after
// it slept may have absorbed a wake-up meant for another: if Seq moved
// meanwhile, it passes one on.
func (g Gate) Await(b Bound, w Waiter) error {
	// Callers have just tried once themselves, so the first check waits
	// for the policy's first pause: an immediate re-check would pull the
	// line the other side is writing, the start of lock-step (spin.go).
	// Only a bound that allows no wait checks at once.
	if b.Try() {
		if w.Ready() {
			return nil
		}
		return ErrWouldBlock
	}
	if err := b.Err(); err != nil {
		if w.Ready() { // an expired bound still makes its one attempt
			return nil
		}
		return err
	}
	if spin(w.Policy, w.Ready) {
		return nil
	}
	ctx := b.Context()
	parked := false
	for {
		seq := g.Seq()
		epoch := g.Register()
		if w.Ready() {
			g.Unregister(epoch)
			return nil
		}
		limit := Forever
		if w.Check != nil {
			retry, m := w.Check()
			if retry {
				g.Unregister(epoch)
				continue
			}
			limit = m
		}
		if epoch == NotCounted && (limit < 0 || limit > uncountedSlice) {
			limit = uncountedSlice
		}
		d, err := b.Sleep(limit)
		if err == nil {
			parked = true
			err = WaitContext(ctx, g.seq, seq, d)
			if err == ErrTimeout {
				err = nil // a slice ended: re-check, and the bound decides
			}
		}
		g.Unregister(epoch)
		if err != nil {
			if parked && g.Seq() != seq {
				g.Signal(1) // pass on a wake-up we may have absorbed
			}
			return err
		}
	}
}
