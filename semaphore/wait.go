package semaphore

import (
	"context"
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// Spinning. A hand-off through a parked futex costs 15-35 µs on this kind of
// machine (waking a halted vCPU), while most critical sections last well
// under a microsecond, so a blocked caller first spins a little. The spin
// is bounded and yields early: with two cores, a spinner burns the core the
// holder needs. Three stages:
//
//	spinBusy rounds     a short busy loop re-reading the word (the holder runs
//	                    on the other core and is about to let go)
//	spinGosched rounds  runtime.Gosched: the holder may be a goroutine of this
//	                    process waiting for a P
//	spinYield rounds    sched_yield: the holder may be another process waiting
//	                    for this core (Gosched does not give the core away)
//
// then the caller parks on the futex.
const (
	spinBusy    = 4
	spinGosched = 2
	spinYield   = 2
	spinRounds  = spinBusy + spinGosched + spinYield
	busyLoops   = 64
)

// spin runs round i (0 <= i < spinRounds) of the bounded spin on a word
// last seen holding v; a busy round ends early once the word changes.
func spin(i int, addr *uint32, v uint32) {
	switch {
	case i < spinBusy:
		for j := 0; j < busyLoops<<i; j++ {
			if atomic.LoadUint32(addr) != v {
				return
			}
		}
	case i < spinBusy+spinGosched:
		runtime.Gosched()
	default:
		schedYield()
	}
}

// ownerCheckEvery is how long a parked waiter sleeps before it checks
// whether the participant it waits for (a lock's holder, a barrier's
// missing member) still lives. The check reads /proc, so it stays on the
// slow path; a dead holder is found within about this long.
const ownerCheckEvery = 25 * time.Millisecond

// A deadline bounds a blocking call: the zero deadline never passes.
type deadline struct {
	at  time.Time
	set bool
}

func deadlineIn(d time.Duration) deadline {
	if d < 0 {
		return deadline{}
	}
	return deadline{at: time.Now().Add(d), set: true}
}

// slice returns how long the next sleep may last: at most max (max < 0:
// no limit but the deadline's), and no later than the deadline; ok is
// false when the deadline has passed.
func (d deadline) slice(max time.Duration) (time.Duration, bool) {
	if !d.set {
		return max, true
	}
	left := time.Until(d.at)
	if left <= 0 {
		return 0, false
	}
	if max < 0 {
		return left, true
	}
	return min(left, max), true
}

// park sleeps on addr while it holds v, for at most slice (< 0: no limit),
// counting itself in *sleepers so that wakers know to make the system
// call. It returns ctx.Err() if ctx ended and nil otherwise (woken, word
// changed, slice over, or spuriously): the caller re-checks everything.
//
// The count is the Dekker half of the protocol: the sleeper increments
// sleepers and then re-reads the word; a waker changes the word and then
// reads sleepers. With sequentially consistent atomics one of them sees
// the other's write, so no wake-up is lost.
func park(ctx context.Context, addr, sleepers *uint32, v uint32, slice time.Duration) error {
	atomic.AddUint32(sleepers, 1)
	defer atomic.AddUint32(sleepers, ^uint32(0))
	if atomic.LoadUint32(addr) != v {
		return nil
	}
	err := futex.WaitContext(ctx, addr, v, slice)
	if cerr := ctxErr(ctx); cerr != nil {
		return cerr
	}
	if err != nil && err != futex.ErrTimeout {
		return err
	}
	return nil
}

// ctxErr is ctx.Err() that costs nothing for a context that cannot end.
func ctxErr(ctx context.Context) error {
	if ctx.Done() == nil {
		return nil
	}
	return ctx.Err()
}

// forever is the duration that means "no timeout" to the internal calls.
const forever time.Duration = -1

// Plain accessors for object memory that is not yet published (init
// functions) or that holds immutable fields.
func putU32(b []byte, v uint32) { binary.NativeEndian.PutUint32(b, v) }
func putU64(b []byte, v uint64) { binary.NativeEndian.PutUint64(b, v) }
func getU32(b []byte) uint32    { return binary.NativeEndian.Uint32(b) }
func getU64(b []byte) uint64    { return binary.NativeEndian.Uint64(b) }
