package semaphore

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// Waiting. Every blocking call here has one internal entry point that
// takes a futex.Bound (Block, NoWait, Within(d), WithContext(ctx)); the
// public forms X, TryX, XContext and XTimeout are one-line shells over
// it. Semaphore, Event, Condition and Barrier wait with futex.Gate.Await,
// the module's one waiter: a Brief spin (a few hundred loads, then the
// core given away four times), then register on the object's gate (a
// futex word and a self-repairing sleepers word), re-check, and park in
// slices. A Mutex keeps its own loop around the waiters bit in its lock
// word (mutex.go says why).

// ownerCheckEvery is how long a parked waiter sleeps before it checks
// whether the participant it waits for (a lock's holder, a barrier's
// missing member) still lives. The check reads /proc, so it stays on the
// slow path; a dead holder is found within about this long.
const ownerCheckEvery = 25 * time.Millisecond

// timeoutBound is the Bound of an XTimeout form: d <= 0 makes one
// attempt and reports a timeout (futex.Within reads a negative d as no
// limit, which these forms never meant).
func timeoutBound(d time.Duration) futex.Bound { return futex.Within(max(d, 0)) }

// gateAt makes the gate over an object's seq and sleepers words, with a
// fresh count of this handle's idle wakes.
func gateAt(obj shm.Object, seqOff, sleepersOff uintptr) futex.Gate {
	return futex.NewGate(obj.Uint32(seqOff), obj.Uint32(sleepersOff), new(atomic.Uint32))
}

// waitErr wraps what Await returned for op: ErrWouldBlock for a NoWait
// bound, else the bound's error (ErrTimeout or the context's).
func waitErr(kind, name, op string, err error) error {
	if err == futex.ErrWouldBlock {
		return fmt.Errorf("%s %q: try %s: %w", kind, name, op, ErrWouldBlock)
	}
	return fmt.Errorf("%s %q: %s: %w", kind, name, op, err)
}

// every times a periodic check inside a wait: due reports true once per
// period, starting one period after its first call.
type every struct{ next time.Time }

func (e *every) due(period time.Duration) bool {
	now := time.Now()
	if e.next.IsZero() {
		e.next = now.Add(period)
		return false
	}
	if now.Before(e.next) {
		return false
	}
	e.next = now.Add(period)
	return true
}

// sleepersState decodes a sleepers word for Inspect: the count, and the
// epoch (how many times wakers repaired the count, mod 2^16).
func sleepersState(p *uint32) (count, epoch uint32) {
	w := atomic.LoadUint32(p)
	return uint32(futex.SleepersCount(w)), futex.SleepersEpoch(w)
}

// Plain accessors for object memory that is not yet published (init
// functions) or that holds immutable fields.
func putU32(b []byte, v uint32) { binary.NativeEndian.PutUint32(b, v) }
func putU64(b []byte, v uint64) { binary.NativeEndian.PutUint64(b, v) }
func getU32(b []byte) uint32    { return binary.NativeEndian.Uint32(b) }
func getU64(b []byte) uint64    { return binary.NativeEndian.Uint64(b) }
