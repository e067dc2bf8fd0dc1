package ringqueue

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	_ "unsafe" // go:linkname

	"github.com/multiproc-go/multiproc/internal/futex"
)

// Blocking: spin, then park on a futex gate.
//
// A put that finds the ring full, or a get that finds it empty, first
// spins: by default (WaitYield) it yields the CPU with sched_yield between
// re-checks for up to spinFor, then parks. Why this shape, measured on the 2-vCPU VM this was
// built on (BenchmarkWaitPolicy):
//
//   - Waking a halted vCPU costs 15-35 µs. A side that parks as soon as
//     the ring is empty turns every hand-off into a wake-up; spinning for
//     about as long as a wake-up costs makes the wake-up rare and costs at
//     most twice the optimum (the ski-rental argument).
//   - A tight load loop is the slowest way to spin: the waiter keeps
//     pulling the line the other side is writing, and both fall into
//     lock-step, one message per cache-line round trip.
//   - With two cores, the spinner competes with the very process it waits
//     for whenever a third runnable thread exists. sched_yield gives the
//     core to another process; runtime.Gosched gives it only to another
//     goroutine of this process. So the spin yields with sched_yield, and
//     also calls Gosched every few rounds so that a producer goroutine in
//     the same process (GOMAXPROCS=1) is not starved either.
//   - Measured here, cross-process, SPSC 64 B stream on a 16384-slot ring
//     (noisy: other jobs shared the VM): yield 33-43 M msgs/s, spin
//     34-48 M (and a core burnt while waiting), park 15-24 M. Round trip:
//     spin 0.7 µs at the median, yield 0.7-3 µs, park 5.5-6 µs. So yield is
//     the default and spin an opt-in for latency.
//   - When processes outnumber cores (BenchmarkOversubscribed: P producer
//     and C consumer processes on one MPMC ring of 1024 × 64 B, 2 vCPUs,
//     load average 14 from other jobs, 4 runs of 200 000 messages,
//     medians): yield 1×1 5.5 M msgs/s, 2×2 2.7 M (0.49×), 4×4 2.1 M
//     (0.39×); spin 6.4 M, 2.0 M, 2.2 M; park 0.9 M, 1.1 M, 0.8 M. Parking
//     sooner loses at every size, 4×4 included: a parked side costs every
//     hand-off a futex wake (a system call for the waker, a scheduling
//     round trip for the sleeper), and with more waiters than cores most
//     of them are parked, so most hand-offs pay it. Yielding hands the core
//     to a runnable process, which with more processes than cores is
//     usually one that has work, often the producer preempted inside its
//     claim that everybody behind it waits for. So yield stays the
//     default. Tried and not kept: parking once two sched_yields took
//     over 5 µs (the core went to somebody else: a sign of
//     oversubscription). Same load, 3 runs each, msgs/s: 4×4 4.5-6.4 M
//     against yield's 4.1-4.4 M, but 1×1 2.5-10 M against 4.7-10.5 M,
//     since on a loaded machine other jobs' processes trip it too. Not a
//     clear win without a quiet machine to measure it on.
//
// Parking uses a gate: a futex word (seq) and a count of sleepers, one
// pair per side (consumers wait on GetSeq, producers on PutSeq). The
// protocol is the Dekker pairing of internal/futex:
//
//	sleeper: seq := load(Seq); sleepers++; if try() succeeds { sleepers--; done }
//	         futex_wait(Seq, seq); sleepers--; loop
//	waker:   change the ring (publish / release / close); if load(sleepers) != 0 { Seq++; futex_wake }
//
// (sleepers++ and -- are gate.register and unregister, which keep an epoch
// beside the count; see gate.go.)
//
// Go's atomics are sequentially consistent: either the waker's load sees
// the sleeper counted, or the sleeper's try sees the waker's change. If
// the waker bumps Seq before the sleeper enters futex_wait, the kernel
// sees Seq != seq and returns at once. So a wake-up is never lost, and
// while nobody sleeps a put or get costs one load of a read-mostly line
// and no system call. Unlike futex.Gate.Signal, the waker does not bump Seq
// unless somebody sleeps: an atomic add per message on a shared line is
// what lock-step is made of.
//
// A sleeper that gives up (timeout, cancelled context) may have absorbed
// a wake-up meant for another: if Seq moved while it slept it passes one
// wake-up on. A process killed while asleep leaves its count behind; the
// count carries an epoch so that wakers can repair it (gate.go).
//
// A sleeper held up by a claim rather than a full or empty ring sleeps at
// most claimCheckAfter at a time, to check the claimant (recover.go).

// WaitPolicy says how a handle's blocking calls wait for room or for a
// message before they park on the futex. Every policy parks in the end,
// so a blocked call never burns a core for long.
type WaitPolicy int32

const (
	// WaitYield (the default) yields the CPU with sched_yield between
	// re-checks for up to spinFor, then parks. Best
	// throughput: the waiting side leaves the other side the core and lets
	// messages pile up, then takes them in a run.
	WaitYield WaitPolicy = iota
	// WaitSpin busy-waits (with the CPU's pause instruction) for a few
	// microseconds, then yields like WaitYield, up to spinFor, then parks.
	// Lowest latency (a cross-process round trip under a microsecond when
	// both sides have a core), at the price of a core while waiting and
	// of lock-step in a stream.
	WaitSpin
	// WaitPark parks at once: least CPU, and every hand-off to a sleeping
	// side costs a futex wake-up (15-35 µs on a KVM guest).
	WaitPark
)

func (p WaitPolicy) String() string {
	switch p {
	case WaitYield:
		return "yield"
	case WaitSpin:
		return "spin"
	case WaitPark:
		return "park"
	}
	return fmt.Sprintf("WaitPolicy(%d)", int32(p))
}

// SetWaitPolicy sets how this handle's blocking calls wait (default
// WaitYield). It applies to this handle only, from its next wait on.
func (q *Queue) SetWaitPolicy(p WaitPolicy) { q.policy.Store(int32(p)) }

// Spin tuning (see BenchmarkWaitPolicy).
const (
	// spinFor bounds the spin before parking: about as long as a futex
	// wake-up of a halted vCPU costs.
	spinFor = 50 * time.Microsecond
	// spinPureFor is how long WaitSpin busy-waits before it yields too.
	spinPureFor = 5 * time.Microsecond
	// pauseCycles is the pause between two checks: procyield(n) runs the
	// PAUSE instruction n times (tens of cycles each), which keeps the
	// waiter off the line the other side is writing for a while without
	// a system call.
	pauseCycles = 20
)

//go:linkname procyield runtime.procyield
func procyield(cycles uint32)

// spin re-runs try according to the handle's policy and reports whether
// it succeeded before the spin budget ran out.
func (q *Queue) spin(try func() (bool, blocker)) bool {
	policy := WaitPolicy(q.policy.Load())
	if policy == WaitPark {
		return false
	}
	check := func() bool {
		done, b := try()
		if !done && q.knownDead(b) {
			q.reclaim(b)
		}
		return done
	}
	// WaitYield yields from the first re-check on: quick re-checks (a few
	// pauses apart) measured no better for throughput and made the
	// lock-step regime more likely (BenchmarkWaitPolicy).
	start := time.Now()
	yield := policy == WaitYield
	for i := 1; ; i++ {
		if !yield {
			procyield(pauseCycles)
		} else {
			// RawSyscall: sched_yield returns at once; the runtime need
			// not hand this thread's P to anyone meanwhile.
			schedYield()
			if i&7 == 0 {
				runtime.Gosched() // and let this process's other goroutines run
			}
		}
		if check() {
			return true
		}
		if i&15 == 0 {
			el := time.Since(start)
			if el > spinFor {
				return false
			}
			// WaitSpin turns to yielding after spinPureFor: if the other
			// side has not answered by then, it probably has no core, and
			// a busy spin would keep it from getting one.
			yield = yield || el > spinPureFor
		}
	}
}

// errTimedOut is await's timeout; callers turn it into their error.
var errTimedOut = errors.New("timed out")

// await calls try until it reports done, spinning and then parking on g.
// try returns done and, when not done, what held it up. await returns nil
// once try is done, errTimedOut when b's deadline passed, or b's context's
// error.
func (q *Queue) await(b futex.Bound, g gate, try func() (bool, blocker)) error {
	if _, err := b.Sleep(0); err != nil {
		return boundErr(err)
	}
	if q.spin(try) {
		return nil
	}
	ctx := b.Context()
	var watch claimWatch
	for {
		seq := atomic.LoadUint32(g.seq)
		epoch := g.register()
		done, bl := try()
		if done {
			g.unregister(epoch)
			return nil
		}
		wait, err := b.Sleep(futex.Forever)
		if err != nil {
			g.unregister(epoch)
			return boundErr(err)
		}
		if epoch == notCounted && (wait < 0 || wait > claimCheckAfter) {
			wait = claimCheckAfter
		}
		if bl.ctrl != nil {
			if (q.knownDead(bl) || watch.due(bl, time.Now())) && q.reclaim(bl) {
				g.unregister(epoch)
				continue
			}
			if wait < 0 || wait > claimCheckAfter {
				wait = claimCheckAfter
			}
		}
		err = futex.WaitContext(ctx, g.seq, seq, wait)
		g.unregister(epoch)
		if err != nil && err != futex.ErrTimeout {
			if atomic.LoadUint32(g.seq) != seq {
				g.signal(1) // pass on a wake-up we may have absorbed
			}
			return err
		}
	}
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
