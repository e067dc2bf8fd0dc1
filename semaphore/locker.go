package semaphore

import (
	"fmt"
	"sync/atomic"

	"github.com/multiproc-go/multiproc/shm"
)

// A Locker is the lock a Condition works with: a *Mutex or an *RLock. The
// interface is sealed (its methods are unexported): a Condition must know
// how to find the lock again in another process.
type Locker interface {
	mutex() *Mutex
	// releaseAll unlocks completely (every level of an RLock) and returns
	// what reacquire needs to restore.
	releaseAll() (lockSave, error)
	// reacquire locks again, waiting as long as it takes, and restores the
	// saved state; it returns what the lock call returned.
	reacquire(lockSave) error
}

// lockSave is an RLock's owner and depth across a Condition wait.
type lockSave struct {
	owner uint64
	count uint32
}

func (m *Mutex) mutex() *Mutex                 { return m }
func (m *Mutex) releaseAll() (lockSave, error) { return lockSave{}, m.Unlock() }
func (m *Mutex) reacquire(lockSave) error      { return m.Lock() }
func (r *RLock) mutex() *Mutex                 { return r.mu }
func (r *RLock) reacquire(sv lockSave) error   { return r.took(Owner(sv.owner), r.mu.Lock(), sv.count) }
func (r *RLock) releaseAll() (lockSave, error) {
	sv := lockSave{owner: atomic.LoadUint64(r.owner), count: atomic.LoadUint32(r.count)}
	atomic.StoreUint32(r.count, 0)
	atomic.StoreUint64(r.owner, 0)
	return sv, r.mu.Unlock()
}

// A lock reference: where a Condition finds its lock, in its own object.
//
//	0  kind     uint32: shm.KindMutex (a Mutex at off within the named
//	            object, whatever that object's kind) or shm.KindRLock
//	4  nameLen  uint32
//	8  off      uint64: the Mutex's offset within the object
//	16 name     [80]byte: the object's name
const (
	lockRefKindOff = 0
	lockRefLenOff  = 4
	lockRefOffOff  = 8
	lockRefNameOff = 16
	lockRefMaxName = 80
	lockRefSize    = lockRefNameOff + lockRefMaxName
)

// writeLockRef records where l lives into mem (a fresh object's memory).
func writeLockRef(mem []byte, seg *shm.Segment, l Locker) error {
	m := l.mutex()
	if m == nil || m.seg == nil {
		return fmt.Errorf("%w: nil lock", ErrInvalid)
	}
	if m.seg.ID() != seg.ID() {
		return fmt.Errorf("%w: lock %q lives in another segment", ErrInvalid, m.name)
	}
	if len(m.obj) == 0 || len(m.obj) > lockRefMaxName {
		return fmt.Errorf("%w: lock object name %q", ErrInvalid, m.obj)
	}
	kind := shm.KindMutex
	if _, ok := l.(*RLock); ok {
		kind = shm.KindRLock
	}
	putU32(mem[lockRefKindOff:], uint32(kind))
	putU32(mem[lockRefLenOff:], uint32(len(m.obj)))
	putU64(mem[lockRefOffOff:], uint64(m.off))
	copy(mem[lockRefNameOff:lockRefNameOff+lockRefMaxName], m.obj)
	return nil
}

// readLockRef finds the lock a reference names, validating every field:
// the reference was written by another process.
func readLockRef(obj shm.Object) (Locker, error) {
	b := obj.Bytes()
	kind := shm.Kind(getU32(b[lockRefKindOff:]))
	n := getU32(b[lockRefLenOff:])
	off := getU64(b[lockRefOffOff:])
	if n == 0 || n > lockRefMaxName {
		return nil, fmt.Errorf("%w: lock reference name length %d", shm.ErrCorrupt, n)
	}
	name := string(b[lockRefNameOff : lockRefNameOff+n])
	target, err := obj.Segment().Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("lock %q: %w", name, err)
	}
	switch kind {
	case shm.KindMutex:
		if off%MutexAlign != 0 || off > target.Size || target.Size-off < MutexSize {
			return nil, fmt.Errorf("%w: mutex at %d in %q of %d bytes", shm.ErrCorrupt, off, name, target.Size)
		}
		name := name
		if target.Kind != shm.KindMutex || off != 0 {
			name = fmt.Sprintf("%s+%d", name, off)
		}
		return MutexAt(target, uintptr(off), name), nil
	case shm.KindRLock:
		if target.Kind != shm.KindRLock || off != 0 || target.Size < rlockSize {
			return nil, fmt.Errorf("%w: lock %q is a %s, not an rlock", shm.ErrCorrupt, name, target.Kind)
		}
		return rlockAt(target), nil
	default:
		return nil, fmt.Errorf("%w: lock reference of kind %d", shm.ErrCorrupt, kind)
	}
}
