package array

import (
	"fmt"

	"github.com/multiproc-go/multiproc/internal/typedobj"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// An Array is n values of T in shared memory with a lock of its own:
// Python's Array (whose get_lock() is Lock/Unlock/Mutex here, and whose
// get_obj() is Slice). The element atomics need no lock; Update and
// Lock ... Unlock make bulk updates atomic with respect to other lockers.
//
// The handle is safe for concurrent use; the elements are shared memory,
// so plain accesses (At, Set, Slice) belong under the lock, or under a
// discipline of the caller's (one writer, say).
type Array[T any] struct {
	e  elems[T]
	mu *semaphore.Mutex

	shm.Attachment // what GobDecode attached; Detach releases it
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
	return &Array[T]{e: newElems[T](obj, g, ti), mu: typedobj.Mutex(obj)}
}

// Name returns the array's name in its segment.
func (a *Array[T]) Name() string { return a.e.name }

// Segment returns the segment the array lives in.
func (a *Array[T]) Segment() *shm.Segment { return a.e.seg }

// Len returns the number of elements, fixed at creation.
func (a *Array[T]) Len() int { return len(a.e.s) }

// At returns element i by a plain read (not atomic, not locked). It panics
// if i is out of range, as indexing a slice does.
func (a *Array[T]) At(i int) T { return a.e.s[i] }

// Set sets element i by a plain write (not atomic, not locked). It panics
// if i is out of range.
func (a *Array[T]) Set(i int, x T) { a.e.s[i] = x }

// Slice returns the elements as a slice of the shared memory itself
// (Python's get_obj()): zero-copy, writes visible to every process, valid
// while the segment is attached. Its capacity is its length.
func (a *Array[T]) Slice() []T { return a.e.s }

// Load returns element i atomically, without the lock. T must be bool, an
// integer, float32, float64 or complex64; Load panics otherwise, or if i
// is out of range.
func (a *Array[T]) Load(i int) T { return a.e.load(i) }

// Store sets element i atomically, without the lock.
func (a *Array[T]) Store(i int, x T) { a.e.store(i, x) }

// Swap sets element i to x and returns its previous value, atomically.
func (a *Array[T]) Swap(i int, x T) T { return a.e.swap(i, x) }

// CompareAndSwap sets element i to x if it equals old (bitwise),
// atomically, and reports whether it did.
func (a *Array[T]) CompareAndSwap(i int, old, x T) bool { return a.e.compareAndSwap(i, old, x) }

// Add adds delta to element i and returns the new value, atomically and
// without the lock, wrapping on overflow. T must be an integer type.
func (a *Array[T]) Add(i int, delta T) T { return a.e.add(i, delta) }

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

// GobEncode encodes a handle on the array, so that it can be an argument of
// a child process (procs).
func (a *Array[T]) GobEncode() ([]byte, error) { return shm.EncodeRef(a.e.seg, a.e.name, 0) }

// GobDecode attaches the array a handle names, opening it with this T:
// another element type is an error wrapping shm.ErrTypeMismatch.
func (a *Array[T]) GobDecode(b []byte) error {
	return decode[T](&a.Attachment, b, true, func(obj shm.Object, g geometry, ti typeInfo) { *a = *newArray[T](obj, g, ti) })
}

func (a *Array[T]) String() string {
	return fmt.Sprintf("array.Array[%v](%q, len %d)", a.e.typ, a.e.name, len(a.e.s))
}
