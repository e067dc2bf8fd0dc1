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
// handle's WaitPolicy (by default an SPSC queue yields the CPU with
// sched_yield between re-checks and an MPMC queue busy-waits a few
// microseconds first, for up to 50 µs in all; internal/futex/spin.go
// gives the measurements behind each policy), then parks on a gate: a futex word
// (Seq) and a sleepers word, one pair per side (consumers wait on
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
// so a blocked call never burns a core for long.
type WaitPolicy int32

// The policies are futex.Yield, futex.Spin and futex.Park, one up (the
// zero WaitPolicy is WaitDefault).
const (
	// WaitDefault is the mode's own policy: WaitYield for an SPSC queue,
	// WaitSpin for an MPMC queue. Measured (internal/futex/spin.go): an
	// SPSC stream runs best when the waiting side yields and lets
	// messages pile up, while an MPMC queue is where more processes than
	// cores meet, and there spinning first keeps 0.7-0.8× of one
	// producer and one consumer's rate where yielding keeps 0.35-0.55×.
	WaitDefault WaitPolicy = 0
	// WaitYield yields the CPU with sched_yield between re-checks for up
	// to 50 µs, then parks. Best throughput for one producer and one
	// consumer: the waiting side leaves the other side the core and lets
	// messages pile up, then takes them in a run.
	WaitYield = WaitPolicy(futex.Yield + 1)
	// WaitSpin busy-waits (with the CPU's pause instruction) for a few
	// microseconds, then yields like WaitYield, up to 50 µs, then parks.
	// Lowest latency (a cross-process round trip under a microsecond when
	// both sides have a core), and the best throughput when processes
	// outnumber cores, since a waiter keeps its core instead of handing
	// it to another waiter.
	WaitSpin = WaitPolicy(futex.Spin + 1)
	// WaitPark parks at once: least CPU, and every hand-off to a sleeping
	// side costs a futex wake-up (15-35 µs on a KVM guest).
	WaitPark = WaitPolicy(futex.Park + 1)
)

func (p WaitPolicy) String() string {
	switch p {
	case WaitDefault:
		return "default"
	case WaitYield, WaitSpin, WaitPark:
		return futex.Policy(p - 1).String()
	}
	return fmt.Sprintf("WaitPolicy(%d)", int32(p))
}

// SetWaitPolicy sets how this handle's blocking calls wait (by default
// WaitDefault: the mode's own). It applies to this handle only, from its
// next wait on. An unknown policy waits as WaitDefault does.
func (q *Queue) SetWaitPolicy(p WaitPolicy) { q.policy.Store(int32(p)) }

// waitPolicy is the handle's policy as futex knows it.
func (q *Queue) waitPolicy() futex.Policy {
	switch p := WaitPolicy(q.policy.Load()); p {
	case WaitYield, WaitSpin, WaitPark:
		return futex.Policy(p - 1)
	}
	if q.g.mode == SPSC {
		return futex.Yield
	}
	return futex.Spin
}

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
