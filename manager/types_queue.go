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
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
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

func (q *queueObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	switch method {
	case "Put", "TryPut":
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		return nil, q.put(ctx, args[0], method == "Put")
	case "Get", "TryGet":
		if err := argCount(args, 0); err != nil {
			return nil, err
		}
		v, err := q.get(ctx, c, method == "Get")
		if err != nil {
			return nil, err
		}
		return [][]byte{v}, nil
	case "Len": // -> length, maxsize
		q.mu.Lock()
		defer q.mu.Unlock()
		return [][]byte{intArg(int64(q.len())), intArg(int64(q.max))}, nil
	}
	if q.joinable {
		switch method {
		case "TaskDone":
			q.mu.Lock()
			defer q.mu.Unlock()
			if q.pending <= 0 {
				return nil, ErrTaskDone
			}
			if q.pending--; q.pending == 0 {
				q.joined.broadcast()
			}
			return nil, nil
		case "Join":
			return nil, q.join(ctx)
		case "Unfinished":
			q.mu.Lock()
			defer q.mu.Unlock()
			return [][]byte{intArg(q.pending)}, nil
		}
	}
	return nil, fmt.Errorf("queue: %q: %w", method, ErrNoMethod)
}

func (q *queueObject) put(ctx context.Context, v []byte, block bool) error {
	for {
		q.mu.Lock()
		if !q.full() {
			q.push(v)
			q.mu.Unlock()
			return nil
		}
		if !block {
			q.mu.Unlock()
			return ErrFull
		}
		ch := q.changed.wait()
		q.mu.Unlock()
		if err := sleep(ctx, ch); err != nil {
			return err
		}
	}
}

func (q *queueObject) get(ctx context.Context, c caller, block bool) ([]byte, error) {
	for {
		q.mu.Lock()
		if c.gone() {
			// Nobody would receive the item: leave it for others.
			q.mu.Unlock()
			return nil, ErrClosed
		}
		if q.len() > 0 {
			v := q.pop()
			q.mu.Unlock()
			return v, nil
		}
		if !block {
			q.mu.Unlock()
			return nil, ErrEmpty
		}
		ch := q.changed.wait()
		q.mu.Unlock()
		if err := sleep(ctx, ch); err != nil {
			return nil, err
		}
	}
}

func (q *queueObject) join(ctx context.Context) error {
	for {
		q.mu.Lock()
		if q.pending == 0 {
			q.mu.Unlock()
			return nil
		}
		ch := q.joined.wait()
		q.mu.Unlock()
		if err := sleep(ctx, ch); err != nil {
			return err
		}
	}
}
