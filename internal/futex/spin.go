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
//     a queue's default and spin an opt-in for latency.
//   - When processes outnumber cores (ringqueue's BenchmarkOversubscribed:
//     P producer and C consumer processes on one MPMC ring of 1024 × 64 B,
//     2 vCPUs, load average 14 from other jobs, 4 runs of 200 000
//     messages, medians): yield 1×1 5.5 M msgs/s, 2×2 2.7 M (0.49×), 4×4
//     2.1 M (0.39×); spin 6.4 M, 2.0 M, 2.2 M; park 0.9 M, 1.1 M, 0.8 M.
//     Parking sooner loses at every size, 4×4 included: a parked side
//     costs every hand-off a futex wake (a system call for the waker, a
//     scheduling round trip for the sleeper), and with more waiters than
//     cores most of them are parked, so most hand-offs pay it. Yielding
//     hands the core to a runnable process, which with more processes
//     than cores is usually one that has work, often the producer
//     preempted inside its claim that everybody behind it waits for. So
//     yield stays the queue's default. Tried and not kept: parking once
//     two sched_yields took over 5 µs (the core went to somebody else: a
//     sign of oversubscription). Same load, 3 runs each, msgs/s: 4×4
//     4.5-6.4 M against yield's 4.1-4.4 M, but 1×1 2.5-10 M against
//     4.7-10.5 M, since on a loaded machine other jobs' processes trip it
//     too. Not a clear win without a quiet machine to measure it on.
//   - A lock, semaphore, event, condition or barrier waits for another
//     caller's short critical section, not for a stream: Brief spins a
//     few hundred loads, gives the core away four times, and parks.
//     Spinning for the full wake-up cost measured no better there and
//     costs a core while a long hold lasts.
type Policy int32

const (
	// Yield yields the CPU with sched_yield between re-checks for up to
	// spinFor, then parks. Best throughput for a stream: the waiting side
	// leaves the other side the core and lets messages pile up, then
	// takes them in a run.
	Yield Policy = iota
	// Spin busy-waits (with the CPU's pause instruction) for a few
	// microseconds, then yields like Yield, up to spinFor, then parks.
	// Lowest latency (a cross-process round trip under a microsecond when
	// both sides have a core), at the price of a core while waiting and
	// of lock-step in a stream.
	Spin
	// Park parks at once: least CPU, and every hand-off to a sleeping
	// side costs a futex wake-up (15-35 µs on a KVM guest).
	Park
	// Brief spins in three short stages, then parks: briefRounds rounds
	// in all (see BriefRound).
	Brief
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
