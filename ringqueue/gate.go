package ringqueue

import (
	"sync/atomic"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// A gate is a futex word (Seq) and a sleepers word in the queue's wait
// lines; blocking.go gives the sleep/wake protocol.
//
// The sleepers word is an epoch and a count:
//
//	bits  0..15  count of sleepers (registered, maybe not yet in the kernel)
//	bits 16..31  epoch
//
// Why the epoch: a process killed while asleep never takes its count back,
// and from then on every signal on that side would make a futex wake with
// nobody to wake (~0.3 µs each, forever). A waker notices: its wakes keep
// finding nobody (futex_wake returns 0) although the count says somebody
// sleeps. After repairAfter such wakes in a row it repairs the gate: it
// sets the count to 0 in a new epoch, then bumps Seq and wakes everyone.
// Live sleepers wake (or find Seq moved and do not sleep), see the epoch
// changed, do not take back a count that was already cleared, and
// register again in the new epoch before they re-check and sleep. Between
// the reset and a live sleeper's new registration a waker may see no
// sleepers and skip its wake; that is safe because the sleeper re-checks
// the ring after registering, as always. A repair that was not needed (a
// sleeper was just slow to enter the kernel) costs a spurious wake-up.
// The epoch is 16 bits: a sleeper would have to sleep through 65536
// repairs without waking for its stale decrement to hit a matching epoch,
// and every repair wakes it.
const (
	sleeperCountMask = 1<<16 - 1
	sleeperEpochUnit = 1 << 16
	repairAfter      = 64
)

type gate struct {
	seq, sleepers *uint32
	// idle counts this handle's consecutive wakes that found nobody.
	idle *atomic.Uint32
}

func (q *Queue) getGate() gate {
	return gate{&q.lay.Wait.GetSeq, &q.lay.Wait.GetSleepers, &q.idleGet}
}

func (q *Queue) putGate() gate {
	return gate{&q.lay.Wait.PutSeq, &q.lay.Wait.PutSleepers, &q.idlePut}
}

// signal wakes up to n sleepers; with none it is a single load of a
// read-mostly word.
func (g gate) signal(n int) {
	if atomic.LoadUint32(g.sleepers)&sleeperCountMask != 0 {
		g.wake(n)
	}
}

func (g gate) signalAll() { g.signal(1 << 30) }

// wake moves Seq on and wakes up to n sleepers (outlined: the slow path).
func (g gate) wake(n int) {
	atomic.AddUint32(g.seq, 1)
	woke, err := futex.Wake(g.seq, n)
	if err != nil || woke > 0 {
		g.idle.Store(0)
		return
	}
	if g.idle.Add(1) >= repairAfter {
		g.idle.Store(0)
		g.repair()
	}
}

// repair clears the count in a new epoch and wakes everyone to register
// again (see above).
func (g gate) repair() {
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
	_, _ = futex.WakeAll(g.seq)
}

// notCounted is register's epoch when the count is full.
const notCounted = ^uint32(0)

// register counts the caller as a sleeper and returns the epoch it was
// counted in. A full count (65535 sleepers) is left alone: the caller is
// then not counted (notCounted) and must bound each sleep, since a waker
// may skip it.
func (g gate) register() uint32 {
	for {
		w := atomic.LoadUint32(g.sleepers)
		if w&sleeperCountMask == sleeperCountMask {
			return notCounted
		}
		if atomic.CompareAndSwapUint32(g.sleepers, w, w+1) {
			return w >> 16
		}
	}
}

// unregister takes back a count made in epoch, unless a repair cleared it.
func (g gate) unregister(epoch uint32) {
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

// sleepersCount returns the count part of a sleepers word.
func sleepersCount(w uint32) int { return int(w & sleeperCountMask) }
