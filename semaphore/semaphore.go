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
//	0  value     uint32: units available; the futex word
//	4  sleepers  uint32: processes asleep on value (may overcount by the
//	             number of sleepers that were killed: each costs later
//	             releases one needless wake, never a lost one)
//	8  bound     uint32: 0 for a Semaphore, the initial value for a
//	             BoundedSemaphore; written before the object is published
//	             and never again
//
// Acquire: CAS value v → v-1 for v > 0. Otherwise spin, then count itself
// in sleepers, re-read value and futex-wait while it is 0. Release: CAS
// v → v+1, then wake one sleeper if sleepers says there is one. Sleepers
// is incremented before the re-read and value before the read of
// sleepers, so one side always sees the other (see park).
//
// Units are not owned: a process killed while holding units does not give
// them back (nor does Python's). Use a Mutex where a holder's death must
// be noticed.
const (
	semValueOff    = 0
	semSleepersOff = 4
	semBoundOff    = 8
	semSize        = 64

	// SemaphoreMax is the largest value a semaphore can hold (SEM_VALUE_MAX).
	SemaphoreMax = 1<<31 - 1
)

// A Semaphore is a counting semaphore shared by processes, Python's
// multiprocessing.Semaphore and BoundedSemaphore. A *Semaphore is a
// handle, safe for concurrent use; it crosses to a child process as a
// procs argument.
type Semaphore struct {
	value    *uint32
	sleepers *uint32
	bound    uint32 // copy of the immutable bound, validated at open
	name     string
	seg      *shm.Segment

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
	return &Semaphore{value: obj.Uint32(semValueOff), sleepers: obj.Uint32(semSleepersOff),
		bound: bound, name: obj.Name, seg: obj.Segment()}, nil
}

// Name returns the semaphore's name.
func (s *Semaphore) Name() string { return s.name }

// Bounded reports whether s is a BoundedSemaphore, and its bound.
func (s *Semaphore) Bounded() (int, bool) { return int(s.bound), s.bound != 0 }

// Value returns the units available now (a snapshot; Python's get_value).
func (s *Semaphore) Value() int { return int(atomic.LoadUint32(s.value)) }

// Acquire takes one unit, waiting as long as it takes.
func (s *Semaphore) Acquire() error {
	// Fast path: a unit is there.
	if v := atomic.LoadUint32(s.value); v > 0 && atomic.CompareAndSwapUint32(s.value, v, v-1) {
		return nil
	}
	return s.acquireSlow(context.Background(), forever)
}

// TryAcquire takes one unit if one is available now, else returns
// ErrWouldBlock (wrapped).
func (s *Semaphore) TryAcquire() error {
	for {
		v := atomic.LoadUint32(s.value)
		if v == 0 {
			return fmt.Errorf("semaphore %q: try acquire: %w", s.name, ErrWouldBlock)
		}
		if atomic.CompareAndSwapUint32(s.value, v, v-1) {
			return nil
		}
	}
}

// AcquireContext is Acquire that gives up when ctx ends, returning
// ctx.Err() (wrapped) without taking a unit. An available unit is taken
// even if ctx is already done.
func (s *Semaphore) AcquireContext(ctx context.Context) error {
	if v := atomic.LoadUint32(s.value); v > 0 && atomic.CompareAndSwapUint32(s.value, v, v-1) {
		return nil
	}
	return s.acquireSlow(ctx, forever)
}

// AcquireTimeout is Acquire that gives up after d with ErrTimeout.
func (s *Semaphore) AcquireTimeout(d time.Duration) error {
	if v := atomic.LoadUint32(s.value); v > 0 && atomic.CompareAndSwapUint32(s.value, v, v-1) {
		return nil
	}
	return s.acquireSlow(context.Background(), max(d, 0))
}

func (s *Semaphore) acquireSlow(ctx context.Context, d time.Duration) error {
	dl := deadlineIn(d)
	parked := false
	for i := 0; ; i++ {
		v := atomic.LoadUint32(s.value)
		if v > 0 {
			if atomic.CompareAndSwapUint32(s.value, v, v-1) {
				return nil
			}
			continue
		}
		err := ctxErr(ctx)
		if err == nil && i < spinRounds && d != 0 {
			spin(i, s.value, 0)
			continue
		}
		slice, ok := dl.slice(forever)
		if err == nil && !ok {
			err = ErrTimeout
		}
		if err == nil {
			parked = true
			err = park(ctx, s.value, s.sleepers, 0, slice)
		}
		if err != nil {
			s.giveUp(parked)
			return fmt.Errorf("semaphore %q: acquire: %w", s.name, err)
		}
	}
}

// giveUp passes a wake-up on when a sleeper leaves without a unit: a
// Release may have woken it, rather than another sleeper, just as its
// context ended.
func (s *Semaphore) giveUp(parked bool) {
	if parked && atomic.LoadUint32(s.value) > 0 && atomic.LoadUint32(s.sleepers) > 0 {
		_, _ = futex.Wake(s.value, 1)
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
	if atomic.LoadUint32(s.sleepers) != 0 {
		_, _ = futex.Wake(s.value, 1)
	}
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
	Sleepers uint32 // may count sleepers that were killed
}

// InspectSemaphore reads a semaphore object without disturbing it.
func InspectSemaphore(obj shm.Object) (SemaphoreState, error) {
	if obj.Kind != shm.KindSemaphore || obj.Size < semSize {
		return SemaphoreState{}, fmt.Errorf("semaphore: inspect %q: %w: it is a %s", obj.Name, shm.ErrKindMismatch, obj.Kind)
	}
	return SemaphoreState{
		Value:    atomic.LoadUint32(obj.Uint32(semValueOff)),
		Bound:    atomic.LoadUint32(obj.Uint32(semBoundOff)),
		Sleepers: atomic.LoadUint32(obj.Uint32(semSleepersOff)),
	}, nil
}
