package semaphore

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// A Semaphore's 64 bytes (one cache line):
//
//	0  value     uint32: units available
//	4  sleepers  uint32: the gate's sleepers word: an epoch (bits 16..31)
//	             and a count (bits 0..15) of processes asleep on seq
//	8  bound     uint32: 0 for a Semaphore, the initial value for a
//	             BoundedSemaphore; written before the object is published
//	             and never again
//	12 seq       uint32: the gate's futex word
//
// Acquire: CAS value v → v-1 for v > 0. Otherwise wait on the gate
// (futex.Gate: register, re-check value, sleep on seq). Release: CAS
// v → v+1, then signal one sleeper, which costs a load while nobody
// sleeps. A process killed asleep leaves its count behind, and the
// releases that find nobody to wake repair it (futex.Gate).
//
// Units are not owned: a process killed while holding units does not give
// them back (nor does Python's). Use a Mutex where a holder's death must
// be noticed.
const (
	semValueOff    = 0
	semSleepersOff = 4
	semBoundOff    = 8
	semSeqOff      = 12
	semSize        = 64

	// SemaphoreMax is the largest value a semaphore can hold (SEM_VALUE_MAX).
	SemaphoreMax = 1<<31 - 1
)

// A Semaphore is a counting semaphore shared by processes, Python's
// multiprocessing.Semaphore and BoundedSemaphore. A *Semaphore is a
// handle, safe for concurrent use; it crosses to a child process as a
// procs argument.
type Semaphore struct {
	value *uint32
	gate  futex.Gate
	bound uint32 // copy of the immutable bound, validated at open
	name  string
	seg   *shm.Segment

	shm.Attachment // what GobDecode attached; Detach releases it
}

// NewSemaphore creates a semaphore named name in seg holding value units
// (0 <= value <= SemaphoreMax).
func NewSemaphore(seg *shm.Segment, name string, value int) (*Semaphore, error) {
	return newSemaphore(seg, name, value, false)
}

// NewBoundedSemaphore creates a semaphore whose value may never exceed
// its initial value: a Release that would exceed it fails with
// ErrBoundExceeded.
func NewBoundedSemaphore(seg *shm.Segment, name string, value int) (*Semaphore, error) {
	return newSemaphore(seg, name, value, true)
}

func newSemaphore(seg *shm.Segment, name string, value int, bounded bool) (*Semaphore, error) {
	if value < 0 || value > SemaphoreMax || (bounded && value == 0) {
		return nil, fmt.Errorf("semaphore %q: create: %w: value %d", name, ErrInvalid, value)
	}
	obj, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindSemaphore, Size: semSize}, func(mem []byte) error {
		// Plain stores: the object is invisible until Create publishes it.
		binary.NativeEndian.PutUint32(mem[semValueOff:], uint32(value))
		if bounded {
			binary.NativeEndian.PutUint32(mem[semBoundOff:], uint32(value))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("semaphore %q: create: %w", name, err)
	}
	return semaphoreAt(obj)
}

// OpenSemaphore opens the semaphore (bounded or not) named name in seg.
func OpenSemaphore(seg *shm.Segment, name string) (*Semaphore, error) {
	obj, err := seg.OpenObject(name, shm.KindSemaphore, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("semaphore %q: open: %w", name, err)
	}
	return semaphoreAt(obj)
}

func semaphoreAt(obj shm.Object) (*Semaphore, error) {
	if obj.Size < semSize {
		return nil, fmt.Errorf("semaphore %q: open: %w: %d bytes", obj.Name, shm.ErrCorrupt, obj.Size)
	}
	bound := atomic.LoadUint32(obj.Uint32(semBoundOff))
	if bound > SemaphoreMax {
		return nil, fmt.Errorf("semaphore %q: open: %w: bound %d", obj.Name, shm.ErrCorrupt, bound)
	}
	return &Semaphore{value: obj.Uint32(semValueOff), gate: gateAt(obj, semSeqOff, semSleepersOff),
		bound: bound, name: obj.Name, seg: obj.Segment()}, nil
}

// Name returns the semaphore's name.
func (s *Semaphore) Name() string { return s.name }

// Bounded reports whether s is a BoundedSemaphore, and its bound.
func (s *Semaphore) Bounded() (int, bool) { return int(s.bound), s.bound != 0 }

// Value returns the units available now (a snapshot; Python's get_value).
func (s *Semaphore) Value() int { return int(atomic.LoadUint32(s.value)) }

// Acquire takes one unit, waiting as long as it takes.
func (s *Semaphore) Acquire() error { return s.acquire(futex.Block()) }

// TryAcquire takes one unit if one is available now, else returns
// ErrWouldBlock (wrapped).
func (s *Semaphore) TryAcquire() error { return s.acquire(futex.NoWait()) }

// AcquireContext is Acquire that gives up when ctx ends, returning
// ctx.Err() (wrapped) without taking a unit. An available unit is taken
// even if ctx is already done.
func (s *Semaphore) AcquireContext(ctx context.Context) error {
	return s.acquire(futex.WithContext(ctx))
}

// AcquireTimeout is Acquire that gives up after d with ErrTimeout.
func (s *Semaphore) AcquireTimeout(d time.Duration) error { return s.acquire(timeoutBound(d)) }

// acquire is every Acquire form. Its fast path is one CAS, taking the
// last unit of a semaphore that holds exactly one (a lock-like semaphore,
// the common uncontended case), so that it inlines into the shells: a
// load-and-CAS fast path measured 85 against the inliner's budget of 80,
// and the call it then cost made the uncontended Acquire 13.6 -> 15.4 ns.
// Any other value takes the slow path, which tries take before it waits.
func (s *Semaphore) acquire(b futex.Bound) error {
	if !atomic.CompareAndSwapUint32(s.value, 1, 0) {
		return s.acquireSlow(b)
	}
	return nil
}

func (s *Semaphore) acquireSlow(b futex.Bound) error {
	if s.take() {
		return nil
	}
	err := s.gate.Await(b, futex.Waiter{Policy: futex.Brief, Ready: s.take})
	if err != nil {
		return waitErr("semaphore", s.name, "acquire", err)
	}
	return nil
}

// take takes a unit if one is there.
func (s *Semaphore) take() bool {
	for {
		v := atomic.LoadUint32(s.value)
		if v == 0 {
			return false
		}
		if atomic.CompareAndSwapUint32(s.value, v, v-1) {
			return true
		}
	}
}

// Release gives one unit back and wakes one waiter if any sleeps. On a
// BoundedSemaphore it fails with ErrBoundExceeded, changing nothing, if
// the value would exceed the bound; on any semaphore, above SemaphoreMax.
func (s *Semaphore) Release() error {
	limit := uint32(SemaphoreMax)
	if s.bound != 0 {
		limit = s.bound
	}
	for {
		v := atomic.LoadUint32(s.value)
		if v >= limit {
			return fmt.Errorf("semaphore %q: release: value %d: %w", s.name, v, ErrBoundExceeded)
		}
		if atomic.CompareAndSwapUint32(s.value, v, v+1) {
			break
		}
	}
	s.gate.Signal(1)
	return nil
}

// GobEncode encodes a handle on s for a child process.
func (s *Semaphore) GobEncode() ([]byte, error) { return shm.EncodeRef(s.seg, s.name, 0) }

// GobDecode re-attaches a handle encoded by GobEncode.
func (s *Semaphore) GobDecode(b []byte) error {
	return decode(&s.Attachment, b, shm.KindSemaphore, func(obj shm.Object) error {
		ns, err := semaphoreAt(obj)
		if err == nil {
			*s = *ns
		}
		return err
	})
}

// SemaphoreState is a snapshot of a semaphore.
type SemaphoreState struct {
	Value    uint32
	Bound    uint32 // 0: unbounded
	Sleepers uint32 // processes counted asleep; may count killed ones until a repair
	Repairs  uint32 // how many times wakers repaired the count (mod 2^16)
}

// InspectSemaphore reads a semaphore object without disturbing it.
func InspectSemaphore(obj shm.Object) (SemaphoreState, error) {
	if obj.Kind != shm.KindSemaphore || obj.Size < semSize {
		return SemaphoreState{}, fmt.Errorf("semaphore: inspect %q: %w: it is a %s", obj.Name, shm.ErrKindMismatch, obj.Kind)
	}
	st := SemaphoreState{
		Value: atomic.LoadUint32(obj.Uint32(semValueOff)),
		Bound: atomic.LoadUint32(obj.Uint32(semBoundOff)),
	}
	st.Sleepers, st.Repairs = sleepersState(obj.Uint32(semSleepersOff))
	return st, nil
}
