package shm

import (
	"sync"
	"sync/atomic"
)

// A goScopes binds values to the goroutine that runs a function: Export's
// collection and Import's descriptors. A GobEncode or GobDecode method has
// no argument through which its caller's state could reach it; the one
// thing that ties it to the Export or Import around it is the goroutine
// running both (gob calls them on the goroutine that called Encode or
// Decode). Scopes nest: a value bound inside another's run shadows it
// until its own run returns.
type goScopes[T any] struct {
	active atomic.Int32 // runs under way anywhere: zero skips the lookup
	mu     sync.Mutex
	byG    map[uint64][]*T // each goroutine's stack of bound values, innermost last
}

// run binds v to the calling goroutine while f runs, and unbinds it
// however f ends (a GobEncode may panic).
func (s *goScopes[T]) run(v *T, f func() error) error {
	g := goid()
	s.mu.Lock()
	if s.byG == nil {
		s.byG = map[uint64][]*T{}
	}
	s.byG[g] = append(s.byG[g], v)
	s.mu.Unlock()
	s.active.Add(1)
	defer func() {
		s.active.Add(-1)
		s.mu.Lock()
		if st := s.byG[g]; len(st) > 1 {
			s.byG[g] = st[:len(st)-1]
		} else {
			delete(s.byG, g)
		}
		s.mu.Unlock()
	}()
	return f()
}

// current returns the innermost value bound to the calling goroutine, or
// nil; with no run under way anywhere it costs one atomic load.
func (s *goScopes[T]) current() *T {
	if s.active.Load() == 0 {
		return nil // the common case: no stack trace to read the goroutine id from
	}
	g := goid()
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.byG[g]; len(st) > 0 {
		return st[len(st)-1]
	}
	return nil
}
