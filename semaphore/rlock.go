package semaphore

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// An RLock's 64 bytes (one cache line):
//
//	 0  lock word   the Mutex protocol (holder ID, waiters, consistency),
//	                plus mutexOwnerRecorded
//	 8  owner       uint64: the holder's Owner token, 0 when unlocked
//	16  count       uint32: recursion depth, 0 when unlocked
//
// owner and count are written only by the holder, after the lock word
// names it and before it clears the word; then the holder sets
// mutexOwnerRecorded in the lock word. Re-entry is decided by reading the
// lock word (is the holder this process, and has it recorded its owner?)
// and owner (is it this token?). The recorded bit is what makes the pair
// trustworthy: a holder taken over from a dead process holds the word
// (the takeover CAS writes it without the bit) while owner and count are
// still the dead holder's, and tokens are per-process counters, so the
// dead holder's token may well be one a goroutine of this process holds;
// without the bit that goroutine would pass the re-entry check and hold
// the lock beside the one taking it over. No other process can make the
// word name this one, and within the process only the token's own caller
// stores that token, after the word is its process's and before the bit.
const (
	rlockOwnerOff = 8
	rlockCountOff = 16
	rlockSize     = 64
)

// An Owner identifies who holds an RLock: a logical thread of control in
// this process, such as one goroutine, or several that hand work on to
// each other in turn. Go gives goroutines no identity, so RLock asks for
// one explicitly. NewOwner returns tokens unique within the process; an
// RLock also records the holding process's participant tag, so tokens need
// not be unique across processes and mean nothing in another process.
type Owner uint64

var ownerSeq atomic.Uint64

// NewOwner returns a fresh token, never 0.
func NewOwner() Owner { return Owner(ownerSeq.Add(1)) }

// An RLock is a re-entrant lock shared by processes, Python's
// multiprocessing.RLock: its owner may lock it again and must unlock it as
// many times. The owner is an Owner token passed to every call. Owner death
// is handled as for Mutex: a lock held by a dead process is taken over
// with ErrOwnerDead, and MarkConsistent must follow before the last Unlock.
//
// A *RLock is a handle, safe for concurrent use; it crosses to a child
// process as a procs argument.
type RLock struct {
	mu    *Mutex
	owner *uint64
	count *uint32

	shm.Attachment // what GobDecode attached; Detach releases it
}

// NewRLock creates an unlocked re-entrant lock named name in seg.
func NewRLock(seg *shm.Segment, name string) (*RLock, error) {
	obj, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindRLock, Size: rlockSize}, nil)
	if err != nil {
		return nil, fmt.Errorf("rlock %q: create: %w", name, err)
	}
	return rlockAt(obj), nil
}

// OpenRLock opens the re-entrant lock named name in seg.
func OpenRLock(seg *shm.Segment, name string) (*RLock, error) {
	obj, err := seg.OpenObject(name, shm.KindRLock, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("rlock %q: open: %w", name, err)
	}
	if obj.Size < rlockSize {
		return nil, fmt.Errorf("rlock %q: open: %w: %d bytes", name, shm.ErrCorrupt, obj.Size)
	}
	return rlockAt(obj), nil
}

func rlockAt(obj shm.Object) *RLock {
	mu := MutexAt(obj, 0, obj.Name)
	mu.kind = "rlock"
	return &RLock{mu: mu, owner: obj.Uint64(rlockOwnerOff), count: obj.Uint32(rlockCountOff)}
}

// Name returns the lock's name.
func (r *RLock) Name() string { return r.mu.name }

// reentry reports whether o holds r already.
func (r *RLock) reentry(o Owner) bool {
	w := atomic.LoadUint64(r.mu.word)
	return w&mutexHolder == r.mu.self && w&mutexOwnerRecorded != 0 && atomic.LoadUint64(r.owner) == uint64(o)
}

func (r *RLock) deeper() error {
	c := atomic.LoadUint32(r.count)
	if c == math.MaxUint32 {
		return fmt.Errorf("rlock %q: lock: %w", r.mu.name, ErrRecursion)
	}
	atomic.StoreUint32(r.count, c+1)
	return nil
}

// took records o as the holder, depth n, after the mutex was taken (err
// nil or ErrOwnerDead: a dead holder's owner and count are overwritten).
func (r *RLock) took(o Owner, err error, n uint32) error {
	if Acquired(err) {
		atomic.StoreUint64(r.owner, uint64(o))
		atomic.StoreUint32(r.count, n)
		atomic.OrUint64(r.mu.word, mutexOwnerRecorded)
	}
	return err
}

func (r *RLock) checkOwner(o Owner, op string) error {
	if o == 0 {
		return fmt.Errorf("rlock %q: %s: %w: zero Owner (use NewOwner)", r.mu.name, op, ErrInvalid)
	}
	return nil
}

// Lock locks r for o, at once if o holds it already (one level deeper),
// else waiting as Mutex.Lock does, with the same results.
func (r *RLock) Lock(o Owner) error { return r.lock(o, futex.Block()) }

// TryLock is Lock that never waits (see Mutex.TryLock).
func (r *RLock) TryLock(o Owner) error { return r.lock(o, futex.NoWait()) }

// LockContext is Lock that gives up when ctx ends.
func (r *RLock) LockContext(ctx context.Context, o Owner) error {
	return r.lock(o, futex.WithContext(ctx))
}

// LockTimeout is Lock that gives up after d with ErrTimeout.
func (r *RLock) LockTimeout(o Owner, d time.Duration) error { return r.lock(o, timeoutBound(d)) }

// lock is every Lock form.
func (r *RLock) lock(o Owner, b futex.Bound) error {
	op := "lock"
	if b.Try() {
		op = "trylock"
	}
	if err := r.checkOwner(o, op); err != nil {
		return err
	}
	if r.reentry(o) {
		return r.deeper()
	}
	return r.took(o, r.mu.lock(b), 1)
}

// Unlock undoes one Lock by o; the last one unlocks r. It returns
// ErrUnlocked if nobody holds r and ErrNotOwner if o does not.
func (r *RLock) Unlock(o Owner) error {
	if !r.reentry(o) || o == 0 {
		if !r.mu.Locked() {
			return fmt.Errorf("rlock %q: unlock: %w", r.mu.name, ErrUnlocked)
		}
		return fmt.Errorf("rlock %q: unlock: %w", r.mu.name, ErrNotOwner)
	}
	if c := atomic.LoadUint32(r.count); c > 1 {
		atomic.StoreUint32(r.count, c-1)
		return nil
	}
	// The last level (or a corrupt count of 0): clear the owner before the
	// word, so that whoever takes the word next finds no stale owner.
	atomic.StoreUint32(r.count, 0)
	atomic.StoreUint64(r.owner, 0)
	return r.mu.Unlock()
}

// MarkConsistent declares the guarded data repaired after ErrOwnerDead
// (see Mutex.MarkConsistent). o must hold r.
func (r *RLock) MarkConsistent(o Owner) error {
	if !r.reentry(o) || o == 0 {
		return fmt.Errorf("rlock %q: mark consistent: %w", r.mu.name, ErrNotOwner)
	}
	return r.mu.MarkConsistent()
}

// HeldBy reports whether o holds r (a snapshot).
func (r *RLock) HeldBy(o Owner) bool { return o != 0 && r.reentry(o) }

// Count returns o's recursion depth, 0 if o does not hold r (a snapshot).
func (r *RLock) Count(o Owner) int {
	if !r.HeldBy(o) {
		return 0
	}
	return int(atomic.LoadUint32(r.count))
}

// State reads r without changing it (see RLockState).
func (r *RLock) State() RLockState {
	return RLockState{
		MutexState: mutexState(r.mu.seg, atomic.LoadUint64(r.mu.word)),
		Owner:      Owner(atomic.LoadUint64(r.owner)),
		Count:      atomic.LoadUint32(r.count),
	}
}

// GobEncode encodes a handle on r for a child process.
func (r *RLock) GobEncode() ([]byte, error) { return shm.EncodeRef(r.mu.seg, r.mu.obj, 0) }

// GobDecode re-attaches a handle encoded by GobEncode.
func (r *RLock) GobDecode(b []byte) error {
	return decode(&r.Attachment, b, shm.KindRLock, func(obj shm.Object) error {
		if obj.Size < rlockSize {
			return fmt.Errorf("rlock %q: %w: %d bytes", obj.Name, shm.ErrCorrupt, obj.Size)
		}
		*r = *rlockAt(obj)
		return nil
	})
}

// RLockState is a snapshot of an RLock.
type RLockState struct {
	MutexState
	Owner Owner  // token of the holder, meaningful in its process only
	Count uint32 // recursion depth
}

// InspectRLock reads an RLock object without disturbing it.
func InspectRLock(obj shm.Object) (RLockState, error) {
	if obj.Kind != shm.KindRLock || obj.Size < rlockSize {
		return RLockState{}, fmt.Errorf("semaphore: inspect %q: %w: it is a %s", obj.Name, shm.ErrKindMismatch, obj.Kind)
	}
	return rlockAt(obj).State(), nil
}
