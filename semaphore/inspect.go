package semaphore

import (
	"fmt"
	"sync/atomic"

	"github.com/multiproc-go/multiproc/shm"
)

// Inspection: read-only views of the primitives' shared words for tools
// (shmctl) and tests. They load words atomically and never write, so they
// are safe on live objects; the result is a snapshot that may be stale by
// the time it is returned. Liveness comes from seg.Alive, which reads /proc.

// MutexState is a snapshot of a lock word.
type MutexState struct {
	Raw         uint64 // the lock word as read
	Locked      bool
	Holder      uint64 // ID of the holder (shm.Segment.Self), 0 when unlocked
	HolderAlive bool   // the holder's process still runs (false when unlocked)
	Waiters     bool   // some process may sleep on the word
	Consistent  bool   // false after a takeover from a dead holder until MarkConsistent
	Recoverable bool   // false once unlocked while inconsistent
	Corrupt     bool   // bits set that no Mutex writes
}

func (s MutexState) String() string {
	switch {
	case s.Corrupt:
		return fmt.Sprintf("corrupt (%#x)", s.Raw)
	case !s.Recoverable:
		return "not recoverable"
	case !s.Locked:
		return "unlocked"
	}
	out := fmt.Sprintf("locked by %#x", s.Holder)
	if !s.HolderAlive {
		out += " (dead)"
	}
	if s.Waiters {
		out += ", waiters"
	}
	if !s.Consistent {
		out += ", inconsistent"
	}
	return out
}

func mutexState(seg *shm.Segment, w uint64) MutexState {
	st := MutexState{
		Raw:         w,
		Holder:      w & mutexHolder,
		Waiters:     w&mutexWaiters != 0,
		Consistent:  w&mutexInconsistent == 0,
		Recoverable: w&mutexNotRecoverable == 0,
		Corrupt:     w&^mutexKnown != 0 || (w&mutexNotRecoverable != 0 && w != mutexNotRecoverable),
	}
	st.Locked = st.Holder != 0
	st.HolderAlive = st.Locked && seg.Alive(st.Holder)
	return st
}

// InspectMutexAt reads the mutex embedded at off in obj (see MutexAt)
// without disturbing it. It fails if the range is outside obj or misaligned.
func InspectMutexAt(obj shm.Object, off uintptr) (MutexState, error) {
	if off%MutexAlign != 0 || uint64(off)+MutexSize > obj.Size {
		return MutexState{}, fmt.Errorf("semaphore: inspect %q: %w: mutex at %d", obj.Name, ErrInvalid, off)
	}
	return mutexState(obj.Segment(), atomic.LoadUint64(obj.Uint64(off))), nil
}

// InspectMutex reads a named mutex (an object of kind shm.KindMutex)
// without disturbing it.
func InspectMutex(obj shm.Object) (MutexState, error) {
	if obj.Kind != shm.KindMutex {
		return MutexState{}, fmt.Errorf("semaphore: inspect %q: %w: it is a %s", obj.Name, shm.ErrKindMismatch, obj.Kind)
	}
	return InspectMutexAt(obj, 0)
}
