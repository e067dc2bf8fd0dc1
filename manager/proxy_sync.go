package manager

import (
	"context"
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// A Semaphore is a proxy for a counting semaphore in the server: Python's
// manager.Semaphore() or, made by NewBoundedSemaphore,
// BoundedSemaphore(). Units are not owned: a client that dies holding some
// does not give them back. Safe for concurrent use; crosses to a child
// process as an argument.
type Semaphore struct{ r *ref }

// NewSemaphore creates a Semaphore with value units on the server (or,
// Named, finds one).
func NewSemaphore(m *Manager, value int, opts ...ObjectOption) (*Semaphore, error) {
	return newSemaphore(m, typeSemaphore, value, opts)
}

// NewBoundedSemaphore is NewSemaphore whose Release fails with
// ErrBoundExceeded rather than raise the value above its initial value.
func NewBoundedSemaphore(m *Manager, value int, opts ...ObjectOption) (*Semaphore, error) {
	return newSemaphore(m, typeBoundedSemaphore, value, opts)
}

func newSemaphore(m *Manager, typ string, value int, opts []ObjectOption) (*Semaphore, error) {
	r, err := m.create(typ, [][]byte{intArg(int64(value))}, opts)
	if err != nil {
		return nil, err
	}
	return &Semaphore{r}, nil
}

// Acquire takes a unit, waiting while there is none (Python's acquire()).
func (s *Semaphore) Acquire() error { return s.acquire(futex.Block()) }

// TryAcquire takes a unit if there is one, or fails with ErrWouldBlock
// (Python's acquire(blocking=False)).
func (s *Semaphore) TryAcquire() error { return s.acquire(futex.NoWait()) }

// AcquireContext is Acquire that gives up when ctx ends, taking nothing.
func (s *Semaphore) AcquireContext(ctx context.Context) error {
	return s.acquire(futex.WithContext(ctx))
}

// AcquireTimeout is Acquire that gives up after d with ErrTimeout
// (Python's acquire(timeout=d) returning False); d == 0 tries once (the
// error then wraps ErrWouldBlock too), a negative d waits without limit.
func (s *Semaphore) AcquireTimeout(d time.Duration) error { return s.acquire(futex.Within(d)) }

func (s *Semaphore) acquire(b futex.Bound) error {
	_, err := s.r.waitCall(b, "TryAcquire", "Acquire")
	return err
}

// Release gives back one unit.
func (s *Semaphore) Release() error { return s.ReleaseN(1) }

// ReleaseN gives back n units (n >= 1).
func (s *Semaphore) ReleaseN(n int) error {
	_, err := s.r.do("Release", intArg(int64(n)))
	return err
}

// Value returns the units available now.
func (s *Semaphore) Value() (int, error) { return s.r.int("Value") }

// Detach releases this proxy's reference.
func (s *Semaphore) Detach() error { return s.r.close() }

// GobEncode packs the proxy to cross to another process.
func (s *Semaphore) GobEncode() ([]byte, error) { return s.r.encode() }

// GobDecode attaches to the Semaphore a GobEncode packed.
func (s *Semaphore) GobDecode(b []byte) error {
	r, err := decodeRef(b, typeSemaphore, func(t string) bool { return t == typeBoundedSemaphore })
	if err != nil {
		return err
	}
	s.r = r
	return nil
}

// An Event is a proxy for a flag in the server that processes wait on:
// Python's manager.Event(). Safe for concurrent use; crosses to a child
// process as an argument.
type Event struct{ r *ref }

// NewEvent creates a clear Event on the server (or, Named, finds one).
func NewEvent(m *Manager, opts ...ObjectOption) (*Event, error) {
	r, err := m.create(typeEvent, nil, opts)
	if err != nil {
		return nil, err
	}
	return &Event{r}, nil
}

// Set sets the flag and wakes every waiter.
func (e *Event) Set() error {
	_, err := e.r.do("Set")
	return err
}

// Clear clears the flag.
func (e *Event) Clear() error {
	_, err := e.r.do("Clear")
	return err
}

// IsSet reports whether the flag is set.
func (e *Event) IsSet() (bool, error) { return e.r.bool("IsSet") }

// Wait waits until the flag is set (Python's wait()).
func (e *Event) Wait() error { return e.wait(futex.Block()) }

// TryWait reports, without waiting, whether the flag is set: nil, or
// ErrWouldBlock (wrapped). IsSet says the same as a bool.
func (e *Event) TryWait() error { return e.wait(futex.NoWait()) }

// WaitContext is Wait that gives up when ctx ends.
func (e *Event) WaitContext(ctx context.Context) error { return e.wait(futex.WithContext(ctx)) }

// WaitTimeout is Wait that gives up after d with ErrTimeout (Python's
// wait(timeout) returning False).
func (e *Event) WaitTimeout(d time.Duration) error { return e.wait(futex.Within(d)) }

func (e *Event) wait(b futex.Bound) error {
	if b.Try() || expired(b) {
		// The server's Wait has no Try method: one look at the flag is one.
		set, err := e.IsSet()
		switch {
		case err != nil || set:
			return err
		case b.Try():
			return fmt.Errorf("manager: %v: %w", e.r.site("Wait"), ErrWouldBlock)
		}
		return fmt.Errorf("manager: %v: %w (%w)", e.r.site("Wait"), ErrWouldBlock, ErrTimeout)
	}
	_, err := e.r.waitCall(b, "", "Wait")
	return err
}

// Detach releases this proxy's reference.
func (e *Event) Detach() error { return e.r.close() }

// GobEncode packs the proxy to cross to another process.
func (e *Event) GobEncode() ([]byte, error) { return e.r.encode() }

// GobDecode attaches to the Event a GobEncode packed.
func (e *Event) GobDecode(b []byte) error {
	r, err := decodeRef(b, typeEvent, nil)
	if err != nil {
		return err
	}
	e.r = r
	return nil
}

// A Barrier is a proxy for a barrier in the server: Python's
// manager.Barrier(). Parties processes call Wait; all return once the
// last arrives. A Wait that gives up (its context ends, or its client's
// connection does) breaks the barrier: every waiter gets ErrBrokenBarrier,
// and so does every Wait until Reset.
type Barrier struct{ r *ref }

// NewBarrier creates a Barrier for parties (>= 1) on the server (or,
// Named, finds one).
func NewBarrier(m *Manager, parties int, opts ...ObjectOption) (*Barrier, error) {
	r, err := m.create(typeBarrier, [][]byte{intArg(int64(parties))}, opts)
	if err != nil {
		return nil, err
	}
	return &Barrier{r}, nil
}

// Wait waits for all parties and returns this caller's arrival index, 0
// for the first, parties-1 for the last (the one that released the rest):
// Python's wait(). There is no TryWait: any party but the last must wait,
// and one that gave up at once would break the barrier for everyone.
func (b *Barrier) Wait() (int, error) { return b.wait(futex.Block()) }

// WaitContext is Wait that gives up when ctx ends, breaking the barrier.
func (b *Barrier) WaitContext(ctx context.Context) (int, error) {
	return b.wait(futex.WithContext(ctx))
}

// WaitTimeout is Wait that gives up after d with ErrTimeout, breaking the
// barrier (Python's wait(timeout)).
func (b *Barrier) WaitTimeout(d time.Duration) (int, error) { return b.wait(futex.Within(d)) }

func (b *Barrier) wait(bound futex.Bound) (int, error) {
	res, err := b.r.waitOne(bound, "", "Wait")
	if err != nil {
		return 0, err
	}
	n, err := getInt(res)
	return int(n), err
}

// Abort breaks the barrier: waiters and later Waits get ErrBrokenBarrier
// until Reset.
func (b *Barrier) Abort() error {
	_, err := b.r.do("Abort")
	return err
}

// Reset returns the barrier to its initial state; current waiters get
// ErrBrokenBarrier.
func (b *Barrier) Reset() error {
	_, err := b.r.do("Reset")
	return err
}

// State returns the number of parties, how many wait now, and whether the
// barrier is broken.
func (b *Barrier) State() (parties, waiting int, broken bool, err error) {
	res, err := b.r.do("State")
	if err != nil {
		return 0, 0, false, err
	}
	if len(res) != 3 {
		return 0, 0, false, ErrProtocol
	}
	v, err := getIntResults(res[:2], 2)
	if err != nil {
		return 0, 0, false, err
	}
	broken, err = getBool(res[2])
	return int(v[0]), int(v[1]), broken, err
}

// Detach releases this proxy's reference.
func (b *Barrier) Detach() error { return b.r.close() }

// GobEncode packs the proxy to cross to another process.
func (b *Barrier) GobEncode() ([]byte, error) { return b.r.encode() }

// GobDecode attaches to the Barrier a GobEncode packed.
func (b *Barrier) GobDecode(bs []byte) error {
	r, err := decodeRef(bs, typeBarrier, nil)
	if err != nil {
		return err
	}
	b.r = r
	return nil
}
