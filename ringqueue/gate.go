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
type gate struct {
	g             futex.Gate
	seq, sleepers *uint32
}

// repairAfter is futex.RepairAfter, for the tests.
const repairAfter = futex.RepairAfter

func newGate(seq, sleepers *uint32, idle *atomic.Uint32) gate {
	return gate{futex.NewGate(seq, sleepers, idle), seq, sleepers}
}

func (q *Queue) getGate() gate {
	return newGate(&q.lay.Wait.GetSeq, &q.lay.Wait.GetSleepers, &q.idleGet)
}

func (q *Queue) putGate() gate {
	return newGate(&q.lay.Wait.PutSeq, &q.lay.Wait.PutSleepers, &q.idlePut)
}

// signal wakes up to n sleepers; with none it is a single load of a
// read-mostly word.
func (g gate) signal(n int) { g.g.Signal(n) }

func (g gate) signalAll() { g.g.SignalAll() }

func (g gate) register() uint32 { return g.g.Register() }

func (g gate) repair() { g.g.Repair() }

// sleepersCount returns the count part of a sleepers word.
func sleepersCount(w uint32) int { return futex.SleepersCount(w) }
