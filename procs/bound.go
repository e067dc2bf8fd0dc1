package procs

import (
	"errors"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// Every blocking call of this package has one internal entry point that
// takes a futex.Bound; its public forms are one-line shells over it:
//
//	X()            x(futex.Block())
//	TryX()         x(futex.NoWait())
//	XContext(ctx)  x(futex.WithContext(ctx))
//	XTimeout(d)    x(futex.Within(d))
//
// Most of what procs waits for is a channel closing in this process (a
// child reaped, a pool result set), which awaitChan bounds; a Conn waits
// in ppoll(2) instead (conn_wait.go).

// errNotYet is awaitChan's answer to a NoWait bound whose channel is
// still open; each caller turns it into its own sentinel (ErrRunning,
// ErrNotReady).
var errNotYet = errors.New("not yet")

// awaitChan waits, within b, for done to close. It returns nil once done
// is closed, errNotYet for a NoWait bound that found it open, and b's
// error (ErrTimeout, or the context's) when the bound ran out first. A
// closed done wins over a bound that ran out at the same moment: the
// result is there, so it is taken.
func awaitChan(b futex.Bound, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	default:
	}
	if b.Try() {
		return errNotYet
	}
	var timer <-chan time.Time
	if dl, ok := b.Deadline(); ok {
		t := time.NewTimer(time.Until(dl))
		defer t.Stop()
		timer = t.C
	}
	ctx := b.Context()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	case <-timer:
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := b.Err(); err != nil {
		return err
	}
	return ErrTimeout // the timer fired a hair before the deadline by the clock
}
