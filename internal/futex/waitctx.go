package futex

import (
	"context"
	"sync/atomic"
	"time"
)

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
