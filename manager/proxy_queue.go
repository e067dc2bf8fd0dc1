package manager

import (
	"context"
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// A Queue is a proxy for a FIFO queue that lives in the server: Python's
// manager.Queue(). Put blocks while a bounded queue is full, Get while it
// is empty; they wait in the server, and other calls on the same
// connection go on meanwhile. TryPut and TryGet never wait (ErrFull,
// ErrEmpty); the Context and Timeout forms bound the wait. Safe for
// concurrent use; crosses to a child process as an argument.
//
// For a queue between this program's own processes, package ringqueue
// (shared memory) is orders of magnitude faster; a manager queue reaches
// any process that can dial the server, on any machine.
type Queue[T any] struct {
	r    *ref
	vals codec[T]
}

// NewQueue creates a Queue holding at most maxsize items (0: no bound) on
// the server (or, Named, finds one).
func NewQueue[T any](m *Manager, maxsize int, opts ...ObjectOption) (*Queue[T], error) {
	return newQueue[T](m, typeQueue, maxsize, opts)
}

func newQueue[T any](m *Manager, typ string, maxsize int, opts []ObjectOption) (*Queue[T], error) {
	r, err := m.create(typ, [][]byte{intArg(int64(maxsize))}, opts)
	if err != nil {
		return nil, err
	}
	return &Queue[T]{r: r, vals: codecFor[T]()}, nil
}

// Put adds v, waiting while the queue is full (Python's put()).
func (q *Queue[T]) Put(v T) error { return q.put(futex.Block(), v) }

// TryPut adds v if there is room, or fails with ErrFull (Python's
// put_nowait()).
func (q *Queue[T]) TryPut(v T) error { return q.put(futex.NoWait(), v) }

// PutContext is Put that gives up when ctx ends, returning its cause
// (wrapped) and adding nothing.
func (q *Queue[T]) PutContext(ctx context.Context, v T) error {
	return q.put(futex.WithContext(ctx), v)
}

// PutTimeout is Put that gives up after d with ErrTimeout (Python's
// put(v, timeout=d)); d == 0 tries once (the error then wraps ErrFull
// too), a negative d waits without limit.
func (q *Queue[T]) PutTimeout(v T, d time.Duration) error { return q.put(futex.Within(d), v) }

func (q *Queue[T]) put(b futex.Bound, v T) error {
	enc, err := q.vals.encode(v)
	if err != nil {
		return err
	}
	_, err = q.r.waitCall(b, "TryPut", "Put", enc)
	return err
}

// Get removes and returns the oldest item, waiting while the queue is
// empty (Python's get()).
func (q *Queue[T]) Get() (T, error) { return q.get(futex.Block()) }

// TryGet removes and returns the oldest item, or fails with ErrEmpty
// (Python's get_nowait()).
func (q *Queue[T]) TryGet() (T, error) { return q.get(futex.NoWait()) }

// GetContext is Get that gives up when ctx ends, returning its cause
// (wrapped). An item the server handed out as ctx ended is returned, not
// lost (see the package doc's Cancellation).
func (q *Queue[T]) GetContext(ctx context.Context) (T, error) { return q.get(futex.WithContext(ctx)) }

// GetTimeout is Get that gives up after d with ErrTimeout (Python's
// get(timeout=d)); d == 0 tries once (the error then wraps ErrEmpty too),
// a negative d waits without limit.
func (q *Queue[T]) GetTimeout(d time.Duration) (T, error) { return q.get(futex.Within(d)) }

func (q *Queue[T]) get(b futex.Bound) (T, error) {
	res, err := q.r.waitOne(b, "TryGet", "Get")
	if err != nil {
		var zero T
		return zero, err
	}
	return q.vals.decode(res)
}

// Len returns the number of items queued (Python's qsize).
func (q *Queue[T]) Len() (int, error) {
	n, _, err := q.size()
	return n, err
}

// Cap returns the queue's maxsize (0: unbounded).
func (q *Queue[T]) Cap() (int, error) {
	_, c, err := q.size()
	return c, err
}

func (q *Queue[T]) size() (n, maxsize int, err error) {
	res, err := q.r.do("Len")
	if err != nil {
		return 0, 0, err
	}
	v, err := getIntResults(res, 2)
	if err != nil {
		return 0, 0, err
	}
	return int(v[0]), int(v[1]), nil
}

// Detach releases this proxy's reference.
func (q *Queue[T]) Detach() error { return q.r.close() }

// GobEncode packs the proxy to cross to another process.
func (q *Queue[T]) GobEncode() ([]byte, error) { return q.r.encode() }

// GobDecode attaches to the Queue a GobEncode packed.
func (q *Queue[T]) GobDecode(b []byte) error {
	r, err := decodeRef(b, typeQueue, nil)
	if err != nil {
		return err
	}
	*q = Queue[T]{r: r, vals: codecFor[T]()}
	return nil
}

// A JoinableQueue is a Queue whose consumers report each item done, so a
// producer can wait for all of them: Python's manager.JoinableQueue().
type JoinableQueue[T any] struct {
	Queue[T]
}

// NewJoinableQueue creates a JoinableQueue holding at most maxsize items
// (0: no bound) on the server (or, Named, finds one).
func NewJoinableQueue[T any](m *Manager, maxsize int, opts ...ObjectOption) (*JoinableQueue[T], error) {
	q, err := newQueue[T](m, typeJoinableQueue, maxsize, opts)
	if err != nil {
		return nil, err
	}
	return &JoinableQueue[T]{Queue: *q}, nil
}

// TaskDone marks one item taken by Get as processed; ErrTaskDone if more
// were marked than put. An item whose consumer died before marking it
// stays unfinished: Join then waits for ever (bound it), as in Python.
func (q *JoinableQueue[T]) TaskDone() error {
	_, err := q.r.do("TaskDone")
	return err
}

// Join waits until every item put has been marked done (Python's
// join()).
func (q *JoinableQueue[T]) Join() error { return q.join(futex.Block()) }

// TryJoin reports, without waiting, whether every item put has been
// marked done: nil, or ErrWouldBlock (wrapped).
func (q *JoinableQueue[T]) TryJoin() error { return q.join(futex.NoWait()) }

// JoinContext is Join that gives up when ctx ends.
func (q *JoinableQueue[T]) JoinContext(ctx context.Context) error {
	return q.join(futex.WithContext(ctx))
}

// JoinTimeout is Join that gives up after d with ErrTimeout (Python's
// join() has no timeout).
func (q *JoinableQueue[T]) JoinTimeout(d time.Duration) error { return q.join(futex.Within(d)) }

func (q *JoinableQueue[T]) join(b futex.Bound) error {
	if b.Try() || expired(b) {
		// The server has no TryJoin: one look at the count is one.
		n, err := q.Unfinished()
		switch {
		case err != nil:
			return err
		case n == 0:
			return nil
		case b.Try():
			return fmt.Errorf("manager: %v: %d unfinished: %w", q.r.site("Join"), n, ErrWouldBlock)
		}
		return fmt.Errorf("manager: %v: %d unfinished: %w (%w)", q.r.site("Join"), n, ErrWouldBlock, ErrTimeout)
	}
	_, err := q.r.waitCall(b, "", "Join")
	return err
}

// Unfinished returns the number of items put and not yet marked done.
func (q *JoinableQueue[T]) Unfinished() (int, error) { return q.r.int("Unfinished") }

// GobEncode packs the proxy to cross to another process.
func (q *JoinableQueue[T]) GobEncode() ([]byte, error) { return q.r.encode() }

// GobDecode attaches to the JoinableQueue a GobEncode packed.
func (q *JoinableQueue[T]) GobDecode(b []byte) error {
	r, err := decodeRef(b, typeJoinableQueue, nil)
	if err != nil {
		return err
	}
	q.Queue = Queue[T]{r: r, vals: codecFor[T]()}
	return nil
}
