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
//     spin 0.7 µs at the median, yield 0.7-3 µs, park 5.5-6 µs. So yield is
//     an SPSC queue's default and spin an opt-in for latency there.
//
//   - When processes outnumber cores, spinning first wins, and it is an
//     MPMC queue's default (ringqueue's BenchmarkOversubscribed: P
//     producer and C consumer processes on one MPMC ring of 1024 × 64 B,
//     2 vCPUs, 10^6 messages a run, rounds interleaved, median [min-max]
//     M msgs/s, on a quiet machine, 2026-11-30):
//
//     policy     1x1             2x2             2x3             3x3             4x4
//     spin       8.47 [8.1-8.8]  5.65 [5.5-5.9]  6.54 [4.7-6.9]  6.05 [6.0-6.1]  5.79 [4.5-6.0]
//     yield      6.69 [6.5-9.3]  4.21 [3.1-6.2]  4.03 [3.6-5.0]  4.35 [4.0-4.4]  4.60 [3.7-7.3]
//     adaptive   7.28 [4.0-7.6]  4.91 [4.7-5.3]  4.24 [4.2-6.0]  4.66 [4.3-5.3]  4.75 [4.4-4.8]
//     crowded    8.00 [5.1-8.1]  5.54 [4.3-6.9]  3.91 [3.0-3.9]  3.79 [3.1-3.8]  2.32 [2.1-2.4]
//     park       1.4-1.6         0.8-1.3                                         0.9-1.0
//
//     With two busy processes of another job on the machine (3 rounds,
//     M msgs/s): spin 0.71, 1.47, 2.76 at 1x1, 2x2, 4x4; yield 0.42, 1.10,
//     2.19. With more processes than cores, a waiter that yields hands
//     its core to whoever is next on that CPU's run queue, which is as
//     often another waiter as the process it waits for: a context switch
//     (microseconds on a VM) per failed check. A waiter that spins keeps
//     its core for a few microseconds while the other core's process
//     moves the ring, and gives it away only once that did not happen.
//     Tried and not kept, both measured above: adaptive spun while the
//     other side's index moved and yielded once it stood still for 2 µs
//     ("spin only while the other side runs"); watching the index pulls
//     the line the other side writes on every put, which cost most at
//     1x1. Crowded parked at once when more callers than CPUs were
//     already spinning (a shared count beside the gate): parked waiters
//     turn hand-offs into futex wake-ups, as Park does everywhere.
//     Earlier, under heavy load (load average 14), parking once two
//     sched_yields took over 5 µs was not a clear win either.
//     For one producer and one consumer, yield stays ahead (an SPSC
//     stream on a 16384-slot ring, 4 rounds: yield 8-21 M msgs/s, spin
//     6-9.5 M: spinning falls into lock-step), so it stays SPSC's default.
//     The pause between spin checks was tried at 20, 40, 80 and 150 PAUSEs
//     (0.4-2.9 µs on this AMD EPYC) and the pure spin at 2-40 µs: within
//     the noise of each other up to 20 µs, worse at 40 µs (4x4: 4.3-5.1 M).
//
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
