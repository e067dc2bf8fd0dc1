package ringqueue

import (
	"errors"
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// Blocking: spin, then park on a futex gate.
//
// A put that finds the ring full, or a get that finds it empty, waits
// with futex.Gate.Await, the module's one waiter: it spins by the
// handle's WaitPolicy (by default it busy-waits re-checking every 3 µs
// for up to ~50 µs, then yields a few times; internal/futex/spin.go
// gives the measurements behind each policy), then parks on a gate: a
// futex word (Seq) and a sleepers word, one pair per side (consumers wait on
// GetSeq, producers on PutSeq); futex.Gate gives the protocol. While
// nobody sleeps a put or get costs one load of a read-mostly line and no
// system call.
//
// A sleeper that gives up (timeout, cancelled context) may have absorbed
// a wake-up meant for another: if Seq moved while it slept it passes one
// wake-up on. A process killed while asleep leaves its count behind; the
// count carries an epoch so that wakers can repair it.
//
// A sleeper held up by a claim rather than a full or empty ring sleeps at
// most claimCheckAfter at a time, to check the claimant (recover.go).

// WaitPolicy says how a handle's blocking calls wait for room or for a
// message before they park on the futex. Every policy parks in the end,
// so a blocked call never burns a core for long. internal/futex/spin.go
// has the measurements behind each.
type WaitPolicy int32

const (
	// WaitPaced (the default) busy-waits re-checking every 3 µs for up
	// to ~50 µs, then yields the CPU a few times, then parks. The best
	// throughput measured, with one producer and one consumer or with
	// more processes than cores: seldom checks leave the other side the
	// lines it writes and let messages pile up into runs. A hand-off to
	// a waiting side may take up to 3 µs longer than under WaitSpin.
	WaitPaced WaitPolicy = iota
	// WaitYield yields the CPU with sched_yield between re-checks for up
	// to 50 µs, then parks. It gives the core away at once, which helps
	// when the other side is a process waiting for this very core, and
	// costs a context switch per check when processes outnumber cores.
	WaitYield
	// WaitSpin busy-waits (with the CPU's pause instruction) for a few
	// microseconds, then yields like WaitYield, up to 50 µs, then parks.
	// Lowest latency (a cross-process round trip around a microsecond
	// when both sides have a core), at the price of a core while waiting
	// and of lock-step in a stream.
	WaitSpin
	// WaitPark parks at once: least CPU, and every hand-off to a sleeping
	// side costs a futex wake-up (15-35 µs on a KVM guest).
	WaitPark
)

// futexPolicy is p as futex knows it; an unknown policy is the default.
func (p WaitPolicy) futexPolicy() futex.Policy {
	switch p {
	case WaitYield:
		return futex.Yield
	case WaitSpin:
		return futex.Spin
	case WaitPark:
		return futex.Park
	}
	return futex.Paced
}

func (p WaitPolicy) String() string {
	switch p {
	case WaitPaced, WaitYield, WaitSpin, WaitPark:
		return p.futexPolicy().String()
	}
	return fmt.Sprintf("WaitPolicy(%d)", int32(p))
}

// SetWaitPolicy sets how this handle's blocking calls wait (default
// WaitPaced). It applies to this handle only, from its next wait on. An
// unknown policy waits as WaitPaced does.
func (q *Queue) SetWaitPolicy(p WaitPolicy) { q.policy.Store(int32(p)) }

// waitPolicy is the handle's policy as futex knows it.
func (q *Queue) waitPolicy() futex.Policy { return WaitPolicy(q.policy.Load()).futexPolicy() }

// errTimedOut is await's timeout; callers turn it into their error.
var errTimedOut = errors.New("timed out")

// await calls try until it reports done, spinning and then parking on g.
// try returns done and, when not done, what held it up. await returns nil
// once try is done, errTimedOut when b's deadline passed, or b's context's
// error.
func (q *Queue) await(b futex.Bound, g gate, try func() (bool, blocker)) error {
	var bl blocker
	var watch claimWatch
	err := g.f().Await(b, futex.Waiter{
		Policy: q.waitPolicy(),
		Ready: func() bool {
			var done bool
			done, bl = try()
			if !done && q.knownDead(bl) && q.reclaim(bl) {
				done, bl = try()
			}
			return done
		},
		Check: func() (bool, time.Duration) {
			if bl.ctrl == nil {
				return false, futex.Forever
			}
			if (q.knownDead(bl) || watch.due(bl, time.Now())) && q.reclaim(bl) {
				return true, 0
			}
			return false, claimCheckAfter
		},
	})
	if err != nil {
		return boundErr(err)
	}
	return nil
}

// timeoutBound is the Bound of an XTimeout form: a negative d is no time
// at all, as it always was here (futex.Within reads it as no limit).
func timeoutBound(d time.Duration) futex.Bound { return futex.Within(max(d, 0)) }

// boundErr turns a Bound's timeout into await's errTimedOut and passes a
// context's error through.
func boundErr(err error) error {
	if err == ErrTimeout { // the Bound's own deadline (a context's is its error)
		return errTimedOut
	}
	return err
}

// claimPut claims up to max positions, waiting as b allows (NoWait: not
// at all).
func (q *Queue) claimPut(bnd futex.Bound, max int) (uint64, int, error) {
	pos, k, bl, err := q.tryClaimPut(max)
	if err != errWouldBlock {
		return pos, k, err
	}
	if bnd.Try() {
		if q.tryRecover(bl) {
			if pos, k, _, err = q.tryClaimPut(max); err != errWouldBlock {
				return pos, k, err
			}
		}
		return 0, 0, q.errFull
	}
	werr := q.await(bnd, q.putGate(), func() (bool, blocker) {
		pos, k, bl, err = q.tryClaimPut(max)
		return err != errWouldBlock, bl
	})
	if werr != nil {
		return 0, 0, q.waitErr("put", werr)
	}
	return pos, k, err
}

// claimGet is claimPut for consumers; bufLen as in tryClaimGet.
func (q *Queue) claimGet(bnd futex.Bound, max, bufLen int) (uint64, int, error) {
	pos, k, bl, err := q.tryClaimGet(max, bufLen)
	if err != errWouldBlock {
		return pos, k, err
	}
	if bnd.Try() {
		if q.tryRecover(bl) {
			if pos, k, _, err = q.tryClaimGet(max, bufLen); err != errWouldBlock {
				return pos, k, err
			}
		}
		return 0, 0, q.errEmpty
	}
	werr := q.await(bnd, q.getGate(), func() (bool, blocker) {
		pos, k, bl, err = q.tryClaimGet(max, bufLen)
		return err != errWouldBlock, bl
	})
	if werr != nil {
		return 0, 0, q.waitErr("get", werr)
	}
	return pos, k, err
}

func (q *Queue) waitErr(op string, err error) error {
	if err == errTimedOut {
		if op == "put" {
			return q.errPutTimeout
		}
		return q.errGetTimeout
	}
	return q.errf(op, err)
}
