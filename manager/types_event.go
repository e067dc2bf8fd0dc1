package manager

import (
	"context"
	"fmt"
	"sync"
)

// eventObject is an Event on the server.
type eventObject struct {
	mu      sync.Mutex
	set     bool
	changed notifier
}

func newEventObject(_ *Server, args [][]byte) (object, error) {
	if err := argCount(args, 0); err != nil {
		return nil, err
	}
	return &eventObject{}, nil
}

func (ev *eventObject) call(ctx context.Context, _ caller, method string, _ [][]byte) ([][]byte, error) {
	switch method {
	case "Set", "Clear":
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.set = method == "Set"
		if ev.set {
			ev.changed.broadcast()
		}
		return nil, nil
	case "IsSet":
		ev.mu.Lock()
		defer ev.mu.Unlock()
		return [][]byte{boolArg(ev.set)}, nil
	case "Wait":
		for {
			ev.mu.Lock()
			if ev.set {
				ev.mu.Unlock()
				return nil, nil
			}
			ch := ev.changed.wait()
			ev.mu.Unlock()
			if err := sleep(ctx, ch); err != nil {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("event: %q: %w", method, ErrNoMethod)
}

// barrierObject is a Barrier on the server. Each round is a generation;
// its waiters hold a pointer to it, so a round that completes or breaks
// tells exactly its own waiters, whatever rounds follow. A waiter that
// stops waiting (cancelled, timed out, connection gone) breaks the round,
// as a timeout breaks Python's barrier (the others would wait forever);
// it stays broken until Reset.
type barrierObject struct {
	mu      sync.Mutex
	parties int
	count   int // waiting in the current round
	gen     *generation
	broken  bool // aborted, until Reset
	changed notifier
}

type generation struct {
	done, broken bool
}

func newBarrierObject(_ *Server, args [][]byte) (object, error) {
	if err := argCount(args, 1); err != nil {
		return nil, err
	}
	n, err := getInt(args[0])
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 1<<30 {
		return nil, fmt.Errorf("barrier of %d parties: %w", n, ErrInvalid)
	}
	return &barrierObject{parties: int(n), gen: &generation{}}, nil
}

func (b *barrierObject) call(ctx context.Context, _ caller, method string, _ [][]byte) ([][]byte, error) {
	switch method {
	case "Wait": // -> arrival index, 0 for the first
		i, err := b.wait(ctx)
		if err != nil {
			return nil, err
		}
		return [][]byte{intArg(int64(i))}, nil
	case "Abort":
		b.mu.Lock()
		defer b.mu.Unlock()
		b.broken = true
		b.breakRound()
		return nil, nil
	case "Reset":
		b.mu.Lock()
		defer b.mu.Unlock()
		b.broken = false
		b.breakRound()
		return nil, nil
	case "State": // -> parties, waiting, broken
		b.mu.Lock()
		defer b.mu.Unlock()
		return [][]byte{intArg(int64(b.parties)), intArg(int64(b.count)), boolArg(b.broken)}, nil
	}
	return nil, fmt.Errorf("barrier: %q: %w", method, ErrNoMethod)
}

// breakRound fails the current round's waiters and starts a fresh round.
func (b *barrierObject) breakRound() {
	if b.count > 0 {
		b.gen.broken = true
		b.changed.broadcast()
	}
	b.gen, b.count = &generation{}, 0
}

func (b *barrierObject) wait(ctx context.Context) (int, error) {
	b.mu.Lock()
	if b.broken {
		b.mu.Unlock()
		return 0, ErrBrokenBarrier
	}
	g, i := b.gen, b.count
	if b.count++; b.count == b.parties {
		g.done = true
		b.gen, b.count = &generation{}, 0
		b.changed.broadcast()
		b.mu.Unlock()
		return i, nil
	}
	for {
		ch := b.changed.wait()
		b.mu.Unlock()
		err := sleep(ctx, ch)
		b.mu.Lock()
		switch {
		case g.done:
			b.mu.Unlock()
			return i, nil // completed, even if ctx ended meanwhile
		case g.broken:
			b.mu.Unlock()
			return 0, ErrBrokenBarrier
		case err != nil:
			b.broken = true // as Python's: broken until Reset
			b.breakRound()
			b.mu.Unlock()
			return 0, err
		}
	}
}
