package array

import (
	"fmt"

	"github.com/multiproc-go/multiproc/shm"
)

// A RawArray is n values of T in shared memory without a lock: Python's
// RawArray. It has the view, the plain accessors and the element atomics
// of Array, and no Update or Lock. Use it when element atomics suffice, or
// when a lock of your own guards it.
//
// The handle is safe for concurrent use; the elements are shared memory,
// so plain accesses (At, Set, Slice) need a discipline of the caller's.
type RawArray[T any] struct {
	e elems[T]

	shm.Attachment // what GobDecode attached; Detach releases it
}

// NewRaw creates a RawArray of n zero elements named name in seg. T must
// be fixed-size (ErrNotFixedSize otherwise, naming the field); a taken name
// is shm.ErrExists.
func NewRaw[T any](seg *shm.Segment, name string, n int) (*RawArray[T], error) {
	obj, g, ti, err := create[T](seg, name, n, nil, false)
	if err != nil {
		return nil, err
	}
	return &RawArray[T]{e: newElems[T](obj, g, ti)}, nil
}

// RawFromSlice creates a RawArray named name in seg holding a copy of s.
func RawFromSlice[T any](seg *shm.Segment, name string, s []T) (*RawArray[T], error) {
	obj, g, ti, err := create(seg, name, len(s), s, false)
	if err != nil {
		return nil, err
	}
	return &RawArray[T]{e: newElems[T](obj, g, ti)}, nil
}

// OpenRaw opens the RawArray named name in seg, made by this or another
// process. Its element type must be T: another type is
// shm.ErrTypeMismatch, another kind of object (a locked Array included)
// shm.ErrKindMismatch.
func OpenRaw[T any](seg *shm.Segment, name string) (*RawArray[T], error) {
	obj, g, ti, err := open[T](seg, name, false)
	if err != nil {
		return nil, err
	}
	return &RawArray[T]{e: newElems[T](obj, g, ti)}, nil
}

// Name returns the array's name in its segment.
func (a *RawArray[T]) Name() string { return a.e.name }

// Segment returns the segment the array lives in.
func (a *RawArray[T]) Segment() *shm.Segment { return a.e.seg }

// Len returns the number of elements, fixed at creation.
func (a *RawArray[T]) Len() int { return len(a.e.s) }

// At returns element i by a plain read (not atomic). It panics if i is out
// of range, as indexing a slice does.
func (a *RawArray[T]) At(i int) T { return a.e.s[i] }

// Set sets element i by a plain write (not atomic). It panics if i is out
// of range.
func (a *RawArray[T]) Set(i int, x T) { a.e.s[i] = x }

// Slice returns the elements as a slice of the shared memory itself:
// zero-copy, writes visible to every process, valid while the segment is
// attached. Its capacity is its length, so append copies out of it.
func (a *RawArray[T]) Slice() []T { return a.e.s }

// Load returns element i atomically. T must be bool, an integer, float32,
// float64 or complex64 (see the package doc); Load panics otherwise, or if
// i is out of range.
func (a *RawArray[T]) Load(i int) T { return a.e.load(i) }

// Store sets element i atomically (same T as Load).
func (a *RawArray[T]) Store(i int, x T) { a.e.store(i, x) }

// Swap sets element i to x and returns its previous value, atomically.
func (a *RawArray[T]) Swap(i int, x T) T { return a.e.swap(i, x) }

// CompareAndSwap sets element i to x if it equals old (bitwise: floats
// compare by their bits), atomically, and reports whether it did.
func (a *RawArray[T]) CompareAndSwap(i int, old, x T) bool { return a.e.compareAndSwap(i, old, x) }

// Add adds delta to element i and returns the new value, atomically,
// wrapping on overflow. T must be an integer type: Add panics otherwise.
func (a *RawArray[T]) Add(i int, delta T) T { return a.e.add(i, delta) }

// GobEncode encodes a handle on the array, so that it can be an argument of
// a child process (procs).
func (a *RawArray[T]) GobEncode() ([]byte, error) { return shm.EncodeRef(a.e.seg, a.e.name, 0) }

// GobDecode attaches the array a handle names, opening it with this T:
// another element type is an error wrapping shm.ErrTypeMismatch.
func (a *RawArray[T]) GobDecode(b []byte) error {
	return decode[T](&a.Attachment, b, false, func(obj shm.Object, g geometry, ti typeInfo) { *a = RawArray[T]{e: newElems[T](obj, g, ti)} })
}

func (a *RawArray[T]) String() string {
	return fmt.Sprintf("array.RawArray[%v](%q, len %d)", a.e.typ, a.e.name, len(a.e.s))
}
