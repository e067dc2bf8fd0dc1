package manager

import (
	"context"
	"fmt"
	"sync"
)

// semaphoreObject is a Semaphore or BoundedSemaphore on the server. Units
// are not owned: a client that dies holding some does not give them back
// (as with Python's).
type semaphoreObject struct {
	mu      sync.Mutex
	value   int64
	bound   int64 // BoundedSemaphore: the initial value; 0: unbounded
	changed notifier
}

func newSemaphoreObject(bounded bool) func(*Server, [][]byte) (object, error) {
	return func(_ *Server, args [][]byte) (object, error) {
		n, err := getInt(args[0])
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, fmt.Errorf("semaphore: initial value %d: %w", n, ErrInvalid)
		}
		s := &semaphoreObject{value: n}
		if bounded {
			s.bound = n
		}
		return s, nil
	}
}

// semAcquireMethod is Acquire (block) or TryAcquire.
func semAcquireMethod(block bool) method[*semaphoreObject] {
	return method[*semaphoreObject]{0, func(s *semaphoreObject, ctx context.Context, c caller, _ [][]byte) ([][]byte, error) {
		return nil, await(ctx, &s.mu, &s.changed, func() (bool, error) {
			switch {
			case c.gone():
				return true, ErrClosed
			case s.value > 0:
				s.value--
				return true, nil
			case !block:
				return true, ErrWouldBlock
			}
			return false, nil
		})
	}}
}

var semaphoreMethods = methods[*semaphoreObject]{
	"Acquire":    semAcquireMethod(true),
	"TryAcquire": semAcquireMethod(false),
	"Release": {1, func(s *semaphoreObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		n, err := getInt(args[0])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("release of %d units: %w", n, ErrInvalid)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.bound > 0 && s.value+n > s.bound {
			return nil, ErrBoundExceeded
		}
		s.value += n
		s.changed.broadcast()
		return nil, nil
	}},
	"Value": {0, func(s *semaphoreObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return [][]byte{intArg(s.value)}, nil
	}},
}

func (s *semaphoreObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	return semaphoreMethods.call(s, "semaphore", ctx, c, method, args)
}

// conditionObject is a Condition on the server, over a Mutex or RLock
// object (its own RLock unless one was given).
//
// Wait registers the waiter before it lets go of the lock, and Notify must
// hold the lock, so a notification cannot fall between a waiter's release
// and its sleep. Waiters are woken in FIFO order. Wait always returns
// holding the lock again — after a notification, a cancellation or a
// timeout alike — unless the caller's connection ended meanwhile.
type conditionObject struct {
	lock    *lockObject
	mu      sync.Mutex
	waiters []chan struct{}
}

func newConditionObject(s *Server, args [][]byte) (object, error) {
	id, err := getUint(args[0])
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return &conditionObject{lock: &lockObject{reentrant: true}}, nil
	}
	s.mu.Lock()
	e, err := s.lookup(id)
	s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("condition: its lock: %w", err)
	}
	l, ok := e.obj.(*lockObject)
	if !ok {
		return nil, fmt.Errorf("condition: object %d is a %s, not a lock: %w", id, e.typ, ErrType)
	}
	return &conditionObject{lock: l}, nil
}

var conditionMethods = func() methods[*conditionObject] {
	ms := methods[*conditionObject]{
		"Wait": {1, func(cv *conditionObject, ctx context.Context, c caller, args [][]byte) ([][]byte, error) {
			o, err := ownerArg(c, args)
			if err != nil {
				return nil, err
			}
			return nil, cv.wait(ctx, c, o)
		}},
		"Notify": {2, func(cv *conditionObject, _ context.Context, c caller, args [][]byte) ([][]byte, error) {
			k, err := getInt(args[1])
			if err != nil || k < 0 {
				return nil, fmt.Errorf("notify %d: %w", k, ErrInvalid)
			}
			return nil, cv.notifyAs(c, args, int(min(k, 1<<30)))
		}},
		"NotifyAll": {1, func(cv *conditionObject, _ context.Context, c caller, args [][]byte) ([][]byte, error) {
			return nil, cv.notifyAs(c, args, -1)
		}},
	}
	// The lock's own methods pass through to it, arity checked there.
	for name := range lockMethods {
		ms[name] = method[*conditionObject]{anyArgs, func(cv *conditionObject, ctx context.Context, c caller, args [][]byte) ([][]byte, error) {
			return cv.lock.call(ctx, c, name, args)
		}}
	}
	return ms
}()

func (cv *conditionObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	return conditionMethods.call(cv, "condition", ctx, c, method, args)
}

// notifyAs wakes n waiters (all if n < 0) for the owner args[0] names,
// who must hold the lock.
func (cv *conditionObject) notifyAs(c caller, args [][]byte, n int) error {
	o, err := ownerArg(c, args)
	if err != nil {
		return err
	}
	if !cv.lock.heldBy(o) {
		return ErrNotOwner
	}
	cv.notify(n)
	return nil
}

func (cv *conditionObject) wait(ctx context.Context, c caller, o owner) error {
	ch := make(chan struct{})
	cv.mu.Lock()
	cv.waiters = append(cv.waiters, ch)
	cv.mu.Unlock()
	depth, err := cv.lock.releaseAll(o)
	if err != nil {
		cv.forget(ch)
		return err
	}
	waitErr := sleep(ctx, ch)
	if waitErr != nil && !cv.forget(ch) {
		waitErr = nil // notified as the wait ended: the notification counts
	}
	// Take the lock back whatever happened, bounded only by the
	// connection's life: the caller expects to hold it.
	if err := cv.lock.restore(c.life, c, o, depth); !Acquired(err) {
		return ErrClosed
	} else if err != nil && waitErr == nil {
		return err // ErrOwnerDead: the caller holds the lock and should know
	}
	return waitErr
}

// forget removes a waiter that stopped waiting; false means a Notify
// already took it.
func (cv *conditionObject) forget(ch chan struct{}) bool {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	for i, w := range cv.waiters {
		if w == ch {
			cv.waiters = append(cv.waiters[:i], cv.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// notify wakes the first n waiters (all if n < 0).
func (cv *conditionObject) notify(n int) {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	if n < 0 || n > len(cv.waiters) {
		n = len(cv.waiters)
	}
	for _, w := range cv.waiters[:n] {
		close(w)
	}
	cv.waiters = append(cv.waiters[:0], cv.waiters[n:]...)
}

// connClosed releases the condition's own lock if a dead connection held
// it (a lock given at creation is in the table and told directly too;
// telling it twice is harmless).
func (cv *conditionObject) connClosed(conn uint64) { cv.lock.connClosed(conn) }
