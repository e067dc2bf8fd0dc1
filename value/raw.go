package value

import (
	"fmt"

	"github.com/multiproc-go/multiproc/shm"
)

// A RawValue is one T in shared memory without a lock: Python's RawValue.
// Its operations are the atomic ones of Value (Load, Store, Swap,
// CompareAndSwap, Add); there is no Update and no Lock. Use it when those
// suffice or when a lock of your own guards it.
//
// A RawValue is safe for concurrent use by goroutines and processes.
type RawValue[T any] struct {
	c cell[T]

	shm.Attachment // what GobDecode attached; Detach releases it
}

// NewRaw creates a RawValue named name in seg holding initial. T must be
// fixed-size (ErrNotFixedSize otherwise, naming the field); a taken name is
// shm.ErrExists.
func NewRaw[T any](seg *shm.Segment, name string, initial T) (*RawValue[T], error) {
	obj, g, ti, err := create(seg, name, &initial, false)
	if err != nil {
		return nil, err
	}
	return &RawValue[T]{c: newCell[T](obj, g, ti)}, nil
}

// OpenRaw opens the RawValue named name in seg, made by this or another
// process. Its element type must be T: another type is shm.ErrTypeMismatch,
// another kind of object (a locked Value included) shm.ErrKindMismatch.
func OpenRaw[T any](seg *shm.Segment, name string) (*RawValue[T], error) {
	obj, g, ti, err := open[T](seg, name, false)
	if err != nil {
		return nil, err
	}
	return &RawValue[T]{c: newCell[T](obj, g, ti)}, nil
}

// Name returns the value's name in its segment.
func (v *RawValue[T]) Name() string { return v.c.name }

// Segment returns the segment the value lives in.
func (v *RawValue[T]) Segment() *shm.Segment { return v.c.seg }

// Load returns the value. It is atomic for every T: one atomic load for a T
// of up to 8 bytes, a seqlock read (never blocking) for a larger one.
func (v *RawValue[T]) Load() T { return v.c.load() }

// Store sets the value atomically. A T of up to 8 bytes is one atomic
// store; a larger one is written while holding a short internal writer
// claim (never the value's lock), see the package doc.
func (v *RawValue[T]) Store(x T) { v.c.store(x) }

// Swap stores x and returns the previous value, atomically.
func (v *RawValue[T]) Swap(x T) T { return v.c.swap(x) }

// CompareAndSwap stores x if the value equals old, atomically, and reports
// whether it did. Values are compared byte for byte, padding excluded:
// floats compare bitwise (NaN equals the same NaN, -0 differs from +0).
func (v *RawValue[T]) CompareAndSwap(old, x T) bool { return v.c.compareAndSwap(old, x) }

// Add adds delta and returns the new value, atomically and without a lock,
// wrapping on overflow. T must be a 4- or 8-byte integer type (int32,
// uint32, int64, uint64, int, uint, uintptr, or a type defined on one):
// Add panics otherwise, as misuse of the type, which New and Open know.
func (v *RawValue[T]) Add(delta T) T { return v.c.addDelta(delta) }

// GobEncode encodes a handle on the value, so that it can be an argument
// of a child process (procs).
func (v *RawValue[T]) GobEncode() ([]byte, error) { return shm.EncodeRef(v.c.seg, v.c.name, 0) }

// GobDecode attaches the value a handle names, opening it with this T:
// another element type is an error wrapping shm.ErrTypeMismatch.
func (v *RawValue[T]) GobDecode(b []byte) error {
	return decode[T](&v.Attachment, b, false, func(obj shm.Object, g geometry, ti typeInfo) { *v = RawValue[T]{c: newCell[T](obj, g, ti)} })
}

func (v *RawValue[T]) String() string {
	return fmt.Sprintf("value.RawValue[%v](%q)", v.c.typ, v.c.name)
}
