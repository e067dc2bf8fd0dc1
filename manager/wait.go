package manager

import "context"

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
