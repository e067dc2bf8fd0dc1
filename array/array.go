package array

import (
	"fmt"

	"github.com/multiproc-go/multiproc/internal/typedobj"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// An Array is n values of T in shared memory with a lock of its own:
// Python's Array (whose get_lock() is Lock/Unlock/Mutex here, and whose
// get_obj() is the embedded RawArray, or Slice). The view, the plain
// accessors and the element atomics are the RawArray's and need no lock;
// Update and Lock ... Unlock make bulk updates atomic with respect to
// other lockers.
//
// The handle is safe for concurrent use; the elements are shared memory,
// so plain accesses (At, Set, Slice) belong under the lock, or under a
// discipline of the caller's (one writer, say).
type Array[T any] struct {
	RawArray[T] // the elements, their atomics, the handle (GobEncode, Detach)
	mu          *semaphore.Mutex
}

// New creates an Array of n zero elements named name in seg, with an
// unlocked lock. T must be fixed-size (ErrNotFixedSize otherwise, naming
// the field); a taken name is shm.ErrExists.
func New[T any](seg *shm.Segment, name string, n int) (*Array[T], error) {
	obj, g, ti, err := create[T](seg, name, n, nil, true)
	if err != nil {
		return nil, err
	}
	return newArray[T](obj, g, ti), nil
}

// FromSlice creates an Array named name in seg holding a copy of s.
func FromSlice[T any](seg *shm.Segment, name string, s []T) (*Array[T], error) {
	obj, g, ti, err := create(seg, name, len(s), s, true)
	if err != nil {
		return nil, err
	}
	return newArray[T](obj, g, ti), nil
}

// Open opens the Array named name in seg, made by this or another process.
// Its element type must be T: another type is shm.ErrTypeMismatch, another
// kind of object (a RawArray included) shm.ErrKindMismatch.
func Open[T any](seg *shm.Segment, name string) (*Array[T], error) {
	obj, g, ti, err := open[T](seg, name, true)
	if err != nil {
		return nil, err
	}
	return newArray[T](obj, g, ti), nil
}

func newArray[T any](obj shm.Object, g geometry, ti typeInfo) *Array[T] {
	return &Array[T]{RawArray: RawArray[T]{e: newElems[T](obj, g, ti)}, mu: typedobj.Mutex(obj)}
}

// Lock takes the array's lock (Python's get_lock().acquire()). It returns
// nil, or an error wrapping semaphore.ErrOwnerDead when it took the lock
// over from a process that died holding it: the caller holds the lock
// then, and the elements may be half-updated. Repair them, call
// a.Mutex().MarkConsistent() and Unlock; unlocking without MarkConsistent
// makes the lock unusable for good (semaphore.ErrNotRecoverable). Use
// semaphore.Acquired(err) to tell whether the lock is held.
func (a *Array[T]) Lock() error { return a.mu.Lock() }

// Unlock releases the array's lock (see semaphore.Mutex.Unlock).
func (a *Array[T]) Unlock() error { return a.mu.Unlock() }

// Mutex returns the array's lock, for the Try, Context and Timeout forms,
// MarkConsistent and State.
func (a *Array[T]) Mutex() *semaphore.Mutex { return a.mu }

// Update runs f on the elements, in place (f gets the shared view), under
// the array's lock. If f panics the lock is released and the panic goes
// on; the elements keep what f wrote before it panicked.
//
// If the previous holder died holding the lock, Update still runs f — it
// sees the elements as the dead holder left them, perhaps half-updated —
// then marks the lock consistent and returns an error wrapping
// semaphore.ErrOwnerDead, so that the caller learns of it. Whether f ran
// is semaphore.Acquired(err); any other error means it did not. A process
// that dies inside f leaves the elements as f had got them. (A panic in f
// after a holder died leaves the lock not recoverable: see Mutex.Do.)
func (a *Array[T]) Update(f func([]T)) error {
	if err := a.mu.Do(func(bool) error { f(a.e.s); return nil }); err != nil {
		return fmt.Errorf("array %q: update: %w", a.e.name, err)
	}
	return nil
}

// GobDecode attaches the array a handle names, opening it with this T:
// another element type is an error wrapping shm.ErrTypeMismatch.
func (a *Array[T]) GobDecode(b []byte) error {
	return decode[T](&a.Attachment, b, true, func(obj shm.Object, g geometry, ti typeInfo) { *a = *newArray[T](obj, g, ti) })
}

func (a *Array[T]) String() string {
	return fmt.Sprintf("array.Array[%v](%q, len %d)", a.e.typ, a.e.name, len(a.e.s))
}
