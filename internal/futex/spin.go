package futex

import (
	"fmt"
	"runtime"
	"time"
	_ "unsafe" // go:linkname
)

// A Policy says how a blocked caller spins before it parks on its Gate.
// Every policy parks in the end, so a blocked call never burns a core for
// long.
//
// Why these shapes, measured on the 2-vCPU VM this was built on
// (ringqueue's BenchmarkWaitPolicy):
//
//   - Waking a halted vCPU costs 15-35 µs. A side that parks as soon as
//     the ring is empty turns every hand-off into a wake-up; spinning for
//     about as long as a wake-up costs makes the wake-up rare and costs at
//     most twice the optimum (the ski-rental argument).
//
//   - A tight load loop is the slowest way to spin: the waiter keeps
//     pulling the line the other side is writing, and both fall into
//     lock-step, one message per cache-line round trip.
//
//   - With two cores, the spinner competes with the very process it waits
//     for whenever a third runnable thread exists. sched_yield gives the
//     core to another process; runtime.Gosched gives it only to another
//     goroutine of this process. So the spin yields with sched_yield, and
//     also calls Gosched every few rounds so that a producer goroutine in
//     the same process (GOMAXPROCS=1) is not starved either.
//
//   - Measured here, cross-process, SPSC 64 B stream on a 16384-slot ring
//     (noisy: other jobs shared the VM): yield 33-43 M msgs/s, spin
//     34-48 M (and a core burnt while waiting), park 15-24 M. Round trip:
//     spin 0.7 µs at the median, yield 0.7-3 µs, park 5.5-6 µs. So yield
//     was a queue's default and spin an opt-in for latency, until Paced
//     (below).
//
//   - A queue's default is Paced: busy-wait, but re-check only every
//     3 µs. Every check of a ring that is empty (or full) pulls the lines
//     the other side is writing, and with several producers or
//     consumers it is a CAS on a contended slot; checking seldom leaves
//     the other side its lines and lets messages pile up into runs, as
//     yielding does, without a context switch per check. Measured with
//     ringqueue's BenchmarkOversubscribed (P producer and C consumer
//     processes on one MPMC ring of 1024 × 64 B, 2 vCPUs, 4·10^6
//     messages a run, configurations interleaved in 3 rounds, median
//     [min-max] M msgs/s, quiet machine, 2026-11-30):
//
//     policy     1x1                2x2              2x3              4x2              4x4
//     paced      11.34 [10.1-12.4]  7.62 [7.3-8.9]   8.14 [7.0-8.6]   7.49 [7.5-9.5]   7.98 [7.1-9.0]
//     paced 6µs   9.79 [7.5-10.3]   7.78 [7.6-7.9]   8.72 [7.6-9.4]   8.34 [7.7-8.6]   8.44 [7.8-8.9]
//     spin        7.50 [6.5-7.9]    4.92 [4.7-5.0]   5.43 [4.9-6.4]   5.11 [4.9-5.2]   5.84 [5.8-6.3]
//     yield       7.02 [5.3-10.6]   4.72 [4.5-10.5]  4.48 [3.2-8.4]   3.89 [3.4-4.4]   3.94 [3.8-4.6]
//
//     That is 0.66-0.72× of paced's own 1x1 at 2x2 to 4x4 in that run,
//     and 0.75-0.84× in another (paced 10.34 M at 1x1; 3x3 8.66 M), where
//     yield kept 0.35-0.67×. An SPSC stream (BenchmarkWaitPolicy, 16384
//     slots) ran 17.4-17.8 M msgs/s paced against yield's 13.3-14.5 M and
//     spin's 9.2-9.8 M. The price is latency: a ping-pong round trip
//     takes 3.9-4.0 µs at the median paced against Spin's 1.5-1.6 µs
//     (ringqueue's BenchmarkPingPong, bench's Latency), so Spin stays the
//     choice for request/response. 6 µs between checks moved throughput
//     within the noise and may add 6 µs to a hand-off. Tried and not
//     kept: checking first after 0.4 µs and backing off to 3.2 µs, then
//     parking at 50 µs with no yields (2x3 3.3 M: a parked side turns
//     hand-offs into futex wake-ups) or yielding from 25 µs (2x3 6.1 M:
//     the early checks cost what they cost before); 160 PAUSEs between
//     checks instead of a clock (5.1-7.7 M at 4x4, unsteady); adaptive,
//     spinning while
//     the other side's index moves and yielding once it stood still for
//     2 µs (watching the index pulls the line the other side writes:
//     2x3 4.2 M); crowded, parking at once when more callers than CPUs
//     already spin (4x4 2.3 M). Under two busy processes of another job
//     (two `yes > /dev/null`, 3 interleaved rounds of 10^6 messages,
//     medians, M msgs/s), paced still led: 1x1 1.42, 2x2 2.04, 4x4 2.47
//     against yield's 0.83, 0.86, 1.41 and spin's 0.54, 1.05, 1.80.
//     Yielding to a busy machine gives the core away for a whole time
//     slice.
//
//   - A lock, semaphore, event, condition or barrier waits for another
//     caller's short critical section, not for a stream: Brief spins a
//     few hundred loads, gives the core away four times, and parks.
//     Spinning for the full wake-up cost measured no better there and
//     costs a core while a long hold lasts.
type Policy int32

const (
	// Yield yields the CPU with sched_yield between re-checks for up to
	// spinFor, then parks: the waiting side leaves the other side the
	// core and lets messages pile up, then takes them in a run. Paced
	// does that better (see above).
	Yield Policy = iota
	// Spin busy-waits (with the CPU's pause instruction) for a few
	// microseconds, then yields like Yield, up to spinFor, then parks.
	// Lowest latency (a cross-process round trip of 1-1.5 µs when both
	// sides have a core), at the price of a core while waiting and of
	// lock-step in a stream.
	Spin
	// Park parks at once: least CPU, and every hand-off to a sleeping
	// side costs a futex wake-up (15-35 µs on a KVM guest).
	Park
	// Brief spins in three short stages, then parks: briefRounds rounds
	// in all (see BriefRound).
	Brief
	// Paced busy-waits re-checking only every paceEvery, for up to
	// paceSpinFor, then yields paceYields times (re-checking after each),
	// then parks. The best throughput for a stream, with processes
	// outnumbering cores or not; a hand-off to a waiting side may wait up
	// to paceEvery longer than under Spin.
	Paced
)

func (p Policy) String() string {
	switch p {
	case Yield:
		return "yield"
	case Spin:
		return "spin"
	case Park:
		return "park"
	case Brief:
		return "brief"
	case Paced:
		return "paced"
	}
	return fmt.Sprintf("Policy(%d)", int32(p))
}

// Spin tuning for Yield and Spin (see BenchmarkWaitPolicy in ringqueue).
const (
	// spinFor bounds the spin before parking: about as long as a futex
	// wake-up of a halted vCPU costs.
	spinFor = 50 * time.Microsecond
	// spinPureFor is how long Spin busy-waits before it yields too.
	spinPureFor = 5 * time.Microsecond
	// pauseCycles is the pause between two checks: procyield(n) runs the
	// PAUSE instruction n times (tens of cycles each), which keeps the
	// waiter off the line the other side is writing for a while without
	// a system call.
	pauseCycles = 20
)

// Paced's tuning (ringqueue's BenchmarkOversubscribed; see Policy).
const (
	// paceEvery is the time between two of Paced's checks.
	paceEvery = 3 * time.Microsecond
	// paceSpinFor is how long Paced busy-waits before it yields.
	paceSpinFor = 48 * time.Microsecond
	// paceYields is how many times it then yields before it parks.
	paceYields = 16
)

// Brief's stages. A hand-off through a parked futex costs 15-35 µs on
// this kind of machine, while most critical sections last well under a
// microsecond, so a blocked caller first spins a little. The spin is
// bounded and yields early: with two cores, a spinner burns the core the
// holder needs.
//
//	briefBusy rounds     a short busy loop re-checking (the holder runs on
//	                     the other core and is about to let go)
//	briefGosched rounds  runtime.Gosched: the holder may be a goroutine of
//	                     this process waiting for a P
//	briefYield rounds    sched_yield: the holder may be another process
//	                     waiting for this core (Gosched does not give the
//	                     core away)
const (
	briefBusy    = 4
	briefGosched = 2
	briefYield   = 2
	// BriefRounds is how many rounds Brief spins.
	BriefRounds = briefBusy + briefGosched + briefYield
	busyLoops   = 64
)

//go:linkname procyield runtime.procyield
func procyield(cycles uint32)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// BriefRound runs round i (0 <= i < BriefRounds) of Brief's spin; a busy
// round ends early once changed reports true. It is exported for a caller
// that keeps its own loop (semaphore's Mutex, with its waiters bit).
func BriefRound(i int, changed func() bool) bool {
	switch {
	case i < briefBusy:
		for j := 0; j < busyLoops<<i; j++ {
			if changed() {
				return true
			}
		}
		return false
	case i < briefBusy+briefGosched:
		runtime.Gosched()
	default:
		schedYield()
	}
	return changed()
}

// spin re-runs ready according to p and reports whether it succeeded
// before the spin budget ran out.
func spin(p Policy, ready func() bool) bool {
	switch p {
	case Park:
		return false
	case Brief:
		for i := range BriefRounds {
			if BriefRound(i, ready) {
				return true
			}
		}
		return false
	case Paced:
		return spinPaced(ready)
	}
	// Yield yields from the first re-check on: quick re-checks (a few
	// pauses apart) measured no better for throughput and made the
	// lock-step regime more likely (BenchmarkWaitPolicy).
	start := time.Now()
	yield := p != Spin
	for i := 1; ; i++ {
		if !yield {
			procyield(pauseCycles)
		} else {
			schedYield()
			if i&7 == 0 {
				runtime.Gosched() // and let this process's other goroutines run
			}
		}
		if ready() {
			return true
		}
		if i&15 == 0 {
			el := time.Since(start)
			if el > spinFor {
				return false
			}
			// Spin turns to yielding after spinPureFor: if the other side
			// has not answered by then, it probably has no core, and a
			// busy spin would keep it from getting one.
			yield = yield || el > spinPureFor
		}
	}
}

// spinPaced is Paced's spin. Between checks it runs short pause loops
// and reads the clock (a vDSO call), so that the interval is a time and
// not a count of PAUSEs, whose length differs tenfold between CPUs (19 ns
// on this AMD EPYC, a few on older Intel parts, ~40 on newer ones).
func spinPaced(ready func() bool) bool {
	start := nanotime()
	next := start + int64(paceEvery)
	for {
		procyield(pauseCycles)
		now := nanotime()
		if now < next {
			continue
		}
		if ready() {
			return true
		}
		if now-start > int64(paceSpinFor) {
			break
		}
		next = now + int64(paceEvery)
	}
	for i := 1; i <= paceYields; i++ {
		schedYield()
		if i&7 == 0 {
			runtime.Gosched() // and let this process's other goroutines run
		}
		if ready() {
			return true
		}
	}
	return false
}
