package ringqueue

import (
	"sync/atomic"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// A gate is a queue side's futex.Gate: the futex word (Seq) and the
// sleepers word (an epoch and a count) in the queue's wait lines, with
// this handle's count of wakes that found nobody. futex.Gate holds the
// protocol, why it cannot lose a wake-up, and how its epoch lets wakers
// repair the count that a process killed while asleep leaves behind.
//
// The three pointers, not a futex.Gate, are what every put and get
// builds (getGate, putGate) to signal: a bigger value made the fast
// paths too costly to inline, which halved SPSC throughput. The
// futex.Gate is made on the slow paths only.
type gate struct {
	seq, sleepers *uint32
	idle          *atomic.Uint32
}

// repairAfter is futex.RepairAfter, for the tests.
const repairAfter = futex.RepairAfter

func (q *Queue) getGate() gate {
	return gate{&q.lay.Wait.GetSeq, &q.lay.Wait.GetSleepers, &q.idleGet}
}

func (q *Queue) putGate() gate {
	return gate{&q.lay.Wait.PutSeq, &q.lay.Wait.PutSleepers, &q.idlePut}
}

// f is the gate as futex knows it.
func (g gate) f() futex.Gate { return futex.NewGate(g.seq, g.sleepers, g.idle) }

// signal wakes up to n sleepers; with none it is a single load of a
// read-mostly word.
func (g gate) signal(n int) {
	if atomic.LoadUint32(g.sleepers)&0xffff != 0 {
		g.wake(n)
	}
}

func (g gate) signalAll() { g.signal(1 << 30) }

// wake is signal's slow path, outlined.
//
//go:noinline
func (g gate) wake(n int) { g.f().Signal(n) }

func (g gate) register() uint32 { return g.f().Register() }

func (g gate) repair() { g.f().Repair() }

// sleepersCount returns the count part of a sleepers word.
func sleepersCount(w uint32) int { return futex.SleepersCount(w) }
