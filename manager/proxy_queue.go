package manager

import (
	"context"
	"time"
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

// Put adds v, waiting while the queue is full.
func (q *Queue[T]) Put(v T) error { return q.PutContext(bg, v) }

// TryPut adds v if there is room, or fails with ErrFull.
func (q *Queue[T]) TryPut(v T) error { return q.put(bg, "TryPut", v) }

// PutContext is Put that gives up when ctx ends, returning its cause
// (wrapped) and adding nothing.
func (q *Queue[T]) PutContext(ctx context.Context, v T) error { return q.put(ctx, "Put", v) }

// PutTimeout is Put that gives up after d with ErrTimeout; d <= 0 makes it
// TryPut.
func (q *Queue[T]) PutTimeout(v T, d time.Duration) error {
	if d <= 0 {
		return q.TryPut(v)
	}
	ctx, cancel := timeout(d)
	defer cancel()
	return q.PutContext(ctx, v)
}

func (q *Queue[T]) put(ctx context.Context, method string, v T) error {
	b, err := q.vals.encode(v)
	if err != nil {
		return err
	}
	_, err = q.r.call(ctx, method, b)
	return err
}

// Get removes and returns the oldest item, waiting while the queue is
// empty.
func (q *Queue[T]) Get() (T, error) { return q.GetContext(bg) }

// TryGet removes and returns the oldest item, or fails with ErrEmpty.
func (q *Queue[T]) TryGet() (T, error) { return q.get(bg, "TryGet") }

// GetContext is Get that gives up when ctx ends, returning its cause
// (wrapped). An item the server handed out as ctx ended is returned, not
// lost (see the package doc's Cancellation).
func (q *Queue[T]) GetContext(ctx context.Context) (T, error) { return q.get(ctx, "Get") }

// GetTimeout is Get that gives up after d with ErrTimeout; d <= 0 makes it
// TryGet.
func (q *Queue[T]) GetTimeout(d time.Duration) (T, error) {
	if d <= 0 {
		return q.TryGet()
	}
	ctx, cancel := timeout(d)
	defer cancel()
	return q.GetContext(ctx)
}

func (q *Queue[T]) get(ctx context.Context, method string) (T, error) {
	b, err := q.r.one(ctx, method)
	if err != nil {
		var zero T
		return zero, err
	}
	return q.vals.decode(b)
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

// Join waits until every item put has been marked done.
func (q *JoinableQueue[T]) Join() error { return q.JoinContext(bg) }

// JoinContext is Join that gives up when ctx ends.
func (q *JoinableQueue[T]) JoinContext(ctx context.Context) error {
	_, err := q.r.call(ctx, "Join")
	return err
}

// JoinTimeout is Join that gives up after d with ErrTimeout.
func (q *JoinableQueue[T]) JoinTimeout(d time.Duration) error {
	ctx, cancel := timeout(d)
	defer cancel()
	return q.JoinContext(ctx)
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
