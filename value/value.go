package value

import (
	"fmt"

	"github.com/multiproc-go/multiproc/internal/typedobj"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// A Value is one T in shared memory with a lock of its own: Python's Value
// (whose get_lock() is Lock/Unlock/Mutex here, and whose get_obj() is the
// embedded RawValue). Load, Store, Swap, CompareAndSwap and Add are the
// RawValue's: atomic without the lock, so they may be called while holding
// it. The lock makes compound updates atomic: Update, or Lock ... Unlock
// around several operations.
//
// The lock excludes other lockers only. A lock-free Store or Add from a
// caller that does not hold the lock may land between an Update's read and
// its write and be overwritten: give each value one discipline, lock-free
// or locked.
//
// A Value is safe for concurrent use by goroutines and processes.
type Value[T any] struct {
	RawValue[T] // the value itself, its atomics, its handle (GobEncode, Detach)
	mu          *semaphore.Mutex

	// scratch is the copy Update hands to f. It is used only while this
	// process holds the lock, which excludes the process's other goroutines
	// too, so one per handle suffices, and Update allocates nothing.
	scratch *T
}

// New creates a Value named name in seg holding initial, with an unlocked
// lock. T must be fixed-size (ErrNotFixedSize otherwise, naming the
// field); a taken name is shm.ErrExists.
func New[T any](seg *shm.Segment, name string, initial T) (*Value[T], error) {
	obj, g, ti, err := create(seg, name, &initial, true)
	if err != nil {
		return nil, err
	}
	return newValue[T](obj, g, ti), nil
}

// Open opens the Value named name in seg, made by this or another process.
// Its element type must be T: another type is shm.ErrTypeMismatch, another
// kind of object (a RawValue included) shm.ErrKindMismatch.
func Open[T any](seg *shm.Segment, name string) (*Value[T], error) {
	obj, g, ti, err := open[T](seg, name, true)
	if err != nil {
		return nil, err
	}
	return newValue[T](obj, g, ti), nil
}

func newValue[T any](obj shm.Object, g geometry, ti typeInfo) *Value[T] {
	return &Value[T]{RawValue: RawValue[T]{c: newCell[T](obj, g, ti)}, mu: typedobj.Mutex(obj), scratch: new(T)}
}

// Lock takes the value's lock (Python's get_lock().acquire()). It returns
// nil, or an error wrapping semaphore.ErrOwnerDead when it took the lock
// over from a process that died holding it: the caller holds the lock
// then, and should check what the dead holder may have left half done,
// call v.Mutex().MarkConsistent() and Unlock — unlocking without
// MarkConsistent makes the lock unusable for good
// (semaphore.ErrNotRecoverable). Use semaphore.Acquired(err) to tell
// whether the lock is held. For a bounded wait use v.Mutex().LockContext
// or LockTimeout.
func (v *Value[T]) Lock() error { return v.mu.Lock() }

// Unlock releases the value's lock (see semaphore.Mutex.Unlock).
func (v *Value[T]) Unlock() error { return v.mu.Unlock() }

// Mutex returns the value's lock, for the Try, Context and Timeout forms,
// MarkConsistent and State.
func (v *Value[T]) Mutex() *semaphore.Mutex { return v.mu }

// Update runs f on a copy of the value under the value's lock and stores
// the result: a read-modify-write that excludes every other Update and
// lock holder. The store is one atomic Store, so the value is never seen
// half-updated, even if this process dies inside f. If f panics the value
// is unchanged, the lock is released and the panic goes on. f must not
// keep the pointer it is given beyond its return.
//
// If the previous holder of the lock died holding it, Update still runs f
// and stores its result, marks the lock consistent, and returns an error
// wrapping semaphore.ErrOwnerDead: the value itself is whole, but whatever
// the dead holder did under the lock beyond it may be half done. Whether f
// ran is semaphore.Acquired(err); any other error means it did not. (A
// panic in f just then leaves the lock not recoverable: see Mutex.Do.)
func (v *Value[T]) Update(f func(*T)) error {
	err := v.mu.Do(func(bool) error {
		x := v.scratch
		*x = v.c.load()
		f(x)
		v.c.store(*x)
		return nil
	})
	if err != nil {
		return fmt.Errorf("value %q: update: %w", v.c.name, err)
	}
	return nil
}

// GobDecode attaches the value a handle names, opening it with this T:
// another element type is an error wrapping shm.ErrTypeMismatch.
func (v *Value[T]) GobDecode(b []byte) error {
	return decode[T](&v.Attachment, b, true, func(obj shm.Object, g geometry, ti typeInfo) { *v = *newValue[T](obj, g, ti) })
}

func (v *Value[T]) String() string {
	return fmt.Sprintf("value.Value[%v](%q)", v.c.typ, v.c.name)
}
