package futex

import (
	"context"
	"sync/atomic"
	"time"
)

// A Gate is a futex word with a count of sleepers, for state that lives
// elsewhere: sleepers wait for the word to move, wakers move it after
// changing the state and wake only when somebody sleeps. Its two words may
// live in shared memory; Seq and Sleepers may sit on different cache lines
// (use NewGate for two words placed apart).
//
// Protocol (see the package doc for why it cannot lose a wake-up):
//
//	sleeper: seq := g.Load(); if ready() { return }; g.Wait(ctx, seq, d)
//	waker:   change the state; g.Signal(n)
type Gate struct {
	seq      *uint32
	sleepers *uint32
}

// NewGate makes a Gate over two 32-bit words, usually in shared memory.
func NewGate(seq, sleepers *uint32) Gate { return Gate{seq: seq, sleepers: sleepers} }

// Load returns the current sequence, to be passed to Wait after the caller
// has re-checked its condition.
func (g Gate) Load() uint32 { return atomic.LoadUint32(g.seq) }

// Sleepers reports how many processes are counted as asleep on the gate.
func (g Gate) Sleepers() uint32 { return atomic.LoadUint32(g.sleepers) }

// Signal moves the sequence on and wakes up to n sleepers, making no system
// call when nobody sleeps.
func (g Gate) Signal(n int) {
	atomic.AddUint32(g.seq, 1)
	if atomic.LoadUint32(g.sleepers) != 0 {
		_, _ = Wake(g.seq, n)
	}
}

// SignalAll moves the sequence on and wakes every sleeper.
func (g Gate) SignalAll() { g.Signal(1 << 30) }

// Wait sleeps until the sequence moves away from seq, ctx is done, or d
// passes (d < 0: no limit). It returns nil when the sequence moved or on a
// spurious wake, ctx.Err() when ctx ended and ErrTimeout when d passed.
// The caller re-checks its condition whatever the result.
func (g Gate) Wait(ctx context.Context, seq uint32, d time.Duration) error {
	atomic.AddUint32(g.sleepers, 1)
	defer atomic.AddUint32(g.sleepers, ^uint32(0))
	// The Dekker pairing with Signal: having counted ourselves, re-read.
	if atomic.LoadUint32(g.seq) != seq {
		return nil
	}
	return WaitContext(ctx, g.seq, seq, d)
}

// maxSlice bounds one sleep when a context can end it: cancellation wakes
// the word at once (context.AfterFunc), and the slice closes the window in
// which the cancel lands just before the sleep begins.
const maxSlice = 50 * time.Millisecond

// WaitContext is Wait that also returns ctx.Err() soon after ctx ends.
// Cancellation wakes every sleeper on addr; they re-check and sleep again.
func WaitContext(ctx context.Context, addr *uint32, val uint32, d time.Duration) error {
	done := ctx.Done()
	if done == nil {
		return Wait(addr, val, d)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _, _ = WakeAll(addr) })
	defer stop()
	var deadline time.Time
	if d >= 0 {
		deadline = time.Now().Add(d)
	}
	for {
		slice := maxSlice
		if d >= 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return ErrTimeout
			}
			slice = min(slice, left)
		}
		err := Wait(addr, val, slice)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != ErrTimeout {
			return err
		}
		if atomic.LoadUint32(addr) != val {
			return nil
		}
	}
}
