// Package funcqueue runs functions one at a time, in order, on a goroutine
// of their own: a pool's callbacks, so that a slow callback holds up no
// result and callbacks never run concurrently with each other (Python's
// pool runs them on its one result-handler thread). procs' Pool and
// distpool's Pool share it.
package funcqueue

import "sync"

// A Queue runs the functions pushed to it in order on its own goroutine.
type Queue struct {
	mu     sync.Mutex
	fs     []func()
	closed bool
	wake   chan struct{} // one pending wake-up is enough: run drains fs whole
	done   chan struct{} // closed when run returns
}

// New returns a running Queue; Close stops it.
func New() *Queue {
	q := &Queue{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

// Push queues f. After Close, f runs at once on the caller's goroutine, so
// a late callback is never lost.
func (q *Queue) Push(f func()) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		f()
		return
	}
	q.fs = append(q.fs, f)
	q.mu.Unlock()
	q.poke()
}

func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *Queue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		fs, closed := q.fs, q.closed
		q.fs = nil
		q.mu.Unlock()
		for _, f := range fs {
			f()
		}
		if closed && len(fs) == 0 {
			return
		}
		if len(fs) == 0 {
			<-q.wake
		}
	}
}

// Close runs what is queued, then stops the queue's goroutine, and returns
// once it has. Calling it again returns at once.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.poke()
	<-q.done
}
