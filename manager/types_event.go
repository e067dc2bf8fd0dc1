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

func newEventObject(_ *Server, _ [][]byte) (object, error) {
	return &eventObject{}, nil
}

// setMethod is Set (true) or Clear.
func setMethod(set bool) method[*eventObject] {
	return method[*eventObject]{0, func(ev *eventObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.set = set
		if set {
			ev.changed.broadcast()
		}
		return nil, nil
	}}
}

var eventMethods = methods[*eventObject]{
	"Set":   setMethod(true),
	"Clear": setMethod(false),
	"IsSet": {0, func(ev *eventObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		return [][]byte{boolArg(ev.set)}, nil
	}},
	"Wait": {0, func(ev *eventObject, ctx context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		return nil, await(ctx, &ev.mu, &ev.changed, func() (bool, error) { return ev.set, nil })
	}},
}

func (ev *eventObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	return eventMethods.call(ev, "event", ctx, c, method, args)
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
	n, err := getInt(args[0])
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 1<<30 {
		return nil, fmt.Errorf("barrier of %d parties: %w", n, ErrInvalid)
	}
	return &barrierObject{parties: int(n), gen: &generation{}}, nil
}

// breakMethod is Abort (broken stays true until Reset) or Reset; both
// fail the current round's waiters.
func breakMethod(broken bool) method[*barrierObject] {
	return method[*barrierObject]{0, func(b *barrierObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.broken = broken
		b.breakRound()
		return nil, nil
	}}
}

var barrierMethods = methods[*barrierObject]{
	"Wait": {0, func(b *barrierObject, ctx context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		i, err := b.wait(ctx) // -> arrival index, 0 for the first
		if err != nil {
			return nil, err
		}
		return [][]byte{intArg(int64(i))}, nil
	}},
	"Abort": breakMethod(true),
	"Reset": breakMethod(false),
	"State": {0, func(b *barrierObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		b.mu.Lock() // -> parties, waiting, broken
		defer b.mu.Unlock()
		return [][]byte{intArg(int64(b.parties)), intArg(int64(b.count)), boolArg(b.broken)}, nil
	}},
}

func (b *barrierObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	return barrierMethods.call(b, "barrier", ctx, c, method, args)
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
	b.mu.Unlock()
	// ended: this round completed or broke (under b.mu).
	ended := func() (bool, error) {
		if g.broken {
			return true, ErrBrokenBarrier
		}
		return g.done, nil
	}
	err := await(ctx, &b.mu, &b.changed, ended)
	if err != nil && err != ErrBrokenBarrier {
		// ctx ended. The round may have ended at the same moment: then
		// its outcome counts, completed or broken; else this waiter's
		// leaving breaks it.
		b.mu.Lock()
		defer b.mu.Unlock()
		if done, rerr := ended(); done {
			err = rerr
		} else {
			b.broken = true // as Python's: broken until Reset
			b.breakRound()
		}
	}
	if err != nil {
		return 0, err
	}
	return i, nil
}
