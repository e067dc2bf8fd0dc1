package manager

import (
	"context"
	"sync"
)

// A notifier wakes everyone waiting for a server-side object's state to
// change. It is a channel closed on every change and replaced lazily: a
// waiter takes the current channel under the object's mutex, unlocks, and
// sleeps on it; the next change (also under the mutex) closes it. Since the
// waiter took the channel while it still saw the old state, no change can
// slip between its check and its sleep. A notifier costs nothing while
// nobody waits: no channel exists then.
//
// Waking everyone is deliberate: manager objects have few waiters, and each
// re-checks its condition under the mutex, so correctness never depends on
// who was woken. Callers must hold the owning object's mutex.
type notifier struct{ ch chan struct{} }

func (n *notifier) wait() <-chan struct{} {
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) broadcast() {
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// sleep waits for ch or ctx, whichever comes first.
func sleep(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// await is every blocking server call's loop: lock mu, check, and if check
// is not done, take n's channel while still holding mu, unlock and sleep
// until n broadcasts or ctx ends; then check again. check runs with mu held
// and reports done with the call's error (nil for success); a non-nil
// error also ends the wait, so a Try form's check returns ErrWouldBlock or
// the like instead of waiting. When ctx ends first await returns its error
// without checking again: the caller stopped waiting and takes nothing.
func await(ctx context.Context, mu *sync.Mutex, n *notifier, check func() (done bool, err error)) error {
	for {
		mu.Lock()
		done, err := check()
		if done || err != nil {
			mu.Unlock()
			return err
		}
		ch := n.wait()
		mu.Unlock()
		if err := sleep(ctx, ch); err != nil {
			return err
		}
	}
}
