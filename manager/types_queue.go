package manager

import (
	"context"
	"fmt"
	"sync"
)

// queueObject is a Queue (or JoinableQueue) on the server: a FIFO of
// opaque values, bounded by max unless max is 0. Blocked Put and Get calls
// sleep on one notifier and re-check under the mutex, so a cancelled or
// disconnected caller simply stops waiting and takes nothing.
type queueObject struct {
	mu       sync.Mutex
	items    [][]byte
	head     int // items[head:] are queued
	max      int
	changed  notifier
	joinable bool
	pending  int64 // items put and not yet marked done (JoinableQueue)
	joined   notifier
}

func newQueueObject(joinable bool) func(*Server, [][]byte) (object, error) {
	return func(_ *Server, args [][]byte) (object, error) {
		n, err := getInt(args[0])
		if err != nil {
			return nil, err
		}
		if n < 0 || n > 1<<40 {
			return nil, fmt.Errorf("queue: maxsize %d: %w", n, ErrInvalid)
		}
		return &queueObject{max: int(n), joinable: joinable}, nil
	}
}

func (q *queueObject) len() int { return len(q.items) - q.head }

func (q *queueObject) full() bool { return q.max > 0 && q.len() >= q.max }

func (q *queueObject) push(v []byte) {
	q.items = append(q.items, v)
	q.pending++
	q.changed.broadcast()
}

func (q *queueObject) pop() []byte {
	v := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	// Compact once the consumed prefix dominates: amortized O(1) per item,
	// and a long-lived queue does not keep a slice as long as its history.
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head >= 1024 && 2*q.head >= len(q.items) {
		q.items, q.head = append([][]byte(nil), q.items[q.head:]...), 0
	}
	q.changed.broadcast()
	return v
}

func putMethod(block bool) method[*queueObject] {
	return method[*queueObject]{1, func(q *queueObject, ctx context.Context, _ caller, args [][]byte) ([][]byte, error) {
		return nil, q.put(ctx, args[0], block)
	}}
}

func getMethod(block bool) method[*queueObject] {
	return method[*queueObject]{0, func(q *queueObject, ctx context.Context, c caller, _ [][]byte) ([][]byte, error) {
		v, err := q.get(ctx, c, block)
		if err != nil {
			return nil, err
		}
		return [][]byte{v}, nil
	}}
}

var queueMethods = methods[*queueObject]{
	"Put":    putMethod(true),
	"TryPut": putMethod(false),
	"Get":    getMethod(true),
	"TryGet": getMethod(false),
	"Len": {0, func(q *queueObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		q.mu.Lock() // -> length, maxsize
		defer q.mu.Unlock()
		return [][]byte{intArg(int64(q.len())), intArg(int64(q.max))}, nil
	}},
}

// joinableMethods are a JoinableQueue's: a Queue's and the task count's.
var joinableMethods = func() methods[*queueObject] {
	ms := methods[*queueObject]{
		"TaskDone": {0, func(q *queueObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
			q.mu.Lock()
			defer q.mu.Unlock()
			if q.pending <= 0 {
				return nil, ErrTaskDone
			}
			if q.pending--; q.pending == 0 {
				q.joined.broadcast()
			}
			return nil, nil
		}},
		"Join": {0, func(q *queueObject, ctx context.Context, _ caller, _ [][]byte) ([][]byte, error) {
			return nil, q.join(ctx)
		}},
		"Unfinished": {0, func(q *queueObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
			q.mu.Lock()
			defer q.mu.Unlock()
			return [][]byte{intArg(q.pending)}, nil
		}},
	}
	for name, m := range queueMethods {
		ms[name] = m
	}
	return ms
}()

func (q *queueObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	if q.joinable {
		return joinableMethods.call(q, "queue", ctx, c, method, args)
	}
	return queueMethods.call(q, "queue", ctx, c, method, args)
}

func (q *queueObject) put(ctx context.Context, v []byte, block bool) error {
	return await(ctx, &q.mu, &q.changed, func() (bool, error) {
		switch {
		case !q.full():
			q.push(v)
			return true, nil
		case !block:
			return true, ErrFull
		}
		return false, nil
	})
}

func (q *queueObject) get(ctx context.Context, c caller, block bool) (v []byte, err error) {
	err = await(ctx, &q.mu, &q.changed, func() (bool, error) {
		switch {
		case c.gone():
			// Nobody would receive the item: leave it for others.
			return true, ErrClosed
		case q.len() > 0:
			v = q.pop()
			return true, nil
		case !block:
			return true, ErrEmpty
		}
		return false, nil
	})
	return v, err
}

func (q *queueObject) join(ctx context.Context) error {
	return await(ctx, &q.mu, &q.joined, func() (bool, error) { return q.pending == 0, nil })
}
