package futex

import (
	"sync/atomic"
)

// A Gate is the sleeper word of every blocking call in the module: a
// futex word (Seq) and a sleepers word, both 32 bits, usually in shared
// memory, for a condition that lives elsewhere (a ring's indices, a
// semaphore's value, an event's flag). Sleepers wait for Seq to move;
// wakers change the condition first and then, only when somebody is
// counted asleep, move Seq and wake. Await (await.go) is the one loop that
// sleeps on it.
//
// Protocol (the Dekker pairing of the package doc):
//
//	sleeper: seq := load(Seq); epoch := register(); if ready() { unregister(epoch); done }
//	         futex_wait(Seq, seq); unregister(epoch); loop
//	waker:   change the condition; if count(load(Sleepers)) != 0 { Seq++; futex_wake }
//
// Go's atomics are sequentially consistent: either the waker's load sees
// the sleeper counted, or the sleeper's ready() sees the waker's change.
// If the waker bumps Seq before the sleeper enters futex_wait, the kernel
// sees Seq != seq and returns at once. So a wake-up is never lost, and
// while nobody sleeps a signal costs one load of a read-mostly line and no
// system call. The waker does not bump Seq unless somebody sleeps: an
// atomic add per message on a shared line is what lock-step is made of.
//
// The sleepers word is an epoch and a count:
//
//	bits  0..15  count of sleepers (registered, maybe not yet in the kernel)
//	bits 16..31  epoch
//
// Why the epoch: a process killed while asleep never takes its count back,
// and from then on every signal would make a futex wake with nobody to
// wake (~0.3 µs each, forever). A waker notices: its wakes keep finding
// fewer sleepers than the count promised (futex_wake returns less than
// min(n, count)). After RepairAfter such wakes in a row it repairs the
// gate: it sets the count to 0 in a new epoch, then bumps Seq and wakes
// everyone. Live sleepers wake (or find Seq moved and do not sleep), see
// the epoch changed, do not take back a count that was already cleared,
// and register again in the new epoch before they re-check and sleep.
// Between the reset and a live sleeper's new registration a waker may see
// no sleepers and skip its wake; that is safe because the sleeper
// re-checks its condition after registering, as always. A repair that was
// not needed (a sleeper was just slow to enter the kernel) costs a
// spurious wake-up. The epoch is 16 bits: a sleeper would have to sleep
// through 65536 repairs without waking for its stale decrement to hit a
// matching epoch, and every repair wakes it.
//
// The wake that triggers a repair is counted by the waker's handle (idle),
// in its own process: the words in shared memory are only Seq and
// Sleepers, and their protocol is the one above, word for word, for every
// reader (ringqueue's Python reader included). For a wake of one sleeper
// "found fewer" means found nobody; for a broadcast it also catches a dead
// sleeper beside live ones, which a Condition's or Barrier's wakes always
// have.
type Gate struct {
	seq, sleepers *uint32
	// idle counts this handle's consecutive wakes that found fewer
	// sleepers than counted.
	idle *atomic.Uint32
}

const (
	sleeperCountMask = 1<<16 - 1
	sleeperEpochUnit = 1 << 16
	// RepairAfter is how many wakes in a row must find fewer sleepers
	// than counted before a waker repairs the count.
	RepairAfter = 64
)

// NewGate makes a Gate over a futex word seq and a sleepers word, with
// idle, this handle's count of wakes that found nobody (one per handle and
// gate, never shared between processes). The words may sit on different
// cache lines.
func NewGate(seq, sleepers *uint32, idle *atomic.Uint32) Gate {
	return Gate{seq: seq, sleepers: sleepers, idle: idle}
}

// Seq returns the current sequence.
func (g Gate) Seq() uint32 { return atomic.LoadUint32(g.seq) }

// Sleepers returns how many sleepers are counted now.
func (g Gate) Sleepers() int { return SleepersCount(atomic.LoadUint32(g.sleepers)) }

// SleepersCount returns the count part of a sleepers word.
func SleepersCount(w uint32) int { return int(w & sleeperCountMask) }

// SleepersEpoch returns the epoch part of a sleepers word.
func SleepersEpoch(w uint32) uint32 { return w >> 16 }

// Signal wakes up to n sleepers; with none it is a single load of a
// read-mostly word.
func (g Gate) Signal(n int) {
	if w := atomic.LoadUint32(g.sleepers); w&sleeperCountMask != 0 {
		g.wake(n, w)
	}
}

// SignalAll wakes every sleeper.
func (g Gate) SignalAll() { g.Signal(1 << 30) }

// wake moves Seq on and wakes up to n of the sleepers counted in w
// (outlined: the slow path).
func (g Gate) wake(n int, w uint32) {
	count := SleepersCount(w)
	atomic.AddUint32(g.seq, 1)
	woke, err := Wake(g.seq, n)
	if err != nil || woke >= min(n, count) {
		if g.idle.Load() != 0 { // no store while it is 0: the goroutines of a process share the handle's line
			g.idle.Store(0)
		}
		return
	}
	if g.idle.Add(1) >= RepairAfter {
		g.idle.Store(0)
		g.Repair()
	}
}

// Repair clears the count in a new epoch and wakes everyone to register
// again (see Gate). Wakers call it; tests and tools may too.
func (g Gate) Repair() {
	for {
		w := atomic.LoadUint32(g.sleepers)
		if w&sleeperCountMask == 0 {
			return
		}
		if atomic.CompareAndSwapUint32(g.sleepers, w, (w&^sleeperCountMask)+sleeperEpochUnit) {
			break
		}
	}
	atomic.AddUint32(g.seq, 1)
	_, _ = WakeAll(g.seq)
}

// NotCounted is Register's epoch when the count is full.
const NotCounted = ^uint32(0)

// Register counts the caller as a sleeper and returns the epoch it was
// counted in. A full count (65535 sleepers) is left alone: the caller is
// then not counted (NotCounted) and must bound each sleep, since a waker
// may skip it.
func (g Gate) Register() uint32 {
	for {
		w := atomic.LoadUint32(g.sleepers)
		if w&sleeperCountMask == sleeperCountMask {
			return NotCounted
		}
		if atomic.CompareAndSwapUint32(g.sleepers, w, w+1) {
			return w >> 16
		}
	}
}

// Unregister takes back a count made in epoch, unless a repair cleared it.
func (g Gate) Unregister(epoch uint32) {
	for {
		w := atomic.LoadUint32(g.sleepers)
		if w>>16 != epoch || w&sleeperCountMask == 0 {
			return
		}
		if atomic.CompareAndSwapUint32(g.sleepers, w, w-1) {
			return
		}
	}
}
