package array

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/layout"
	"github.com/multiproc-go/multiproc/shm"
)

// ErrNotFixedSize is wrapped by the constructors and Open when T cannot
// live in shared memory (it holds a pointer, string, slice, map, channel,
// func or interface); the message names the offending field.
var ErrNotFixedSize = layout.ErrNotFixedSize

// elems is an array object as one process sees it: the view and the
// element atomics, shared by Array and RawArray.
type elems[T any] struct {
	s         []T   // the elements, in the shared mapping
	atom      uint8 // how element atomics work (atomic.go)
	addMode   uint8 // how Add works: atomNone, atom64 or atom32
	atomPanic any   // what element atomics panic with when atom == atomNone
	addPanic  any   // what Add panics with when addMode == atomNone
	seg       *shm.Segment
	name      string
	typ       reflect.Type
}

func newElems[T any](obj shm.Object, g geometry, ti typeInfo) elems[T] {
	e := elems[T]{seg: obj.Segment(), name: obj.Name, typ: ti.Typ}
	e.atom, e.addMode, e.atomPanic, e.addPanic = atomicMode(ti.Typ, obj.Name)
	n := int(g.length)
	switch {
	case n == 0:
		e.s = []T{}
	case ti.Size == 0:
		// Zero-size elements take no memory: any valid address serves.
		e.s = unsafe.Slice((*T)(obj.Pointer(0)), n)
	default:
		// layoutOf or create checked that n elements fit the object.
		p := (*T)(obj.Pointer(uintptr(g.dataOff)))
		e.s = unsafe.Slice(p, n)
	}
	return e
}

// create makes an array object of n elements, locked or raw, filled from
// init if it is not nil, before the object is published.
func create[T any](seg *shm.Segment, name string, n int, init []T, locked bool) (shm.Object, geometry, typeInfo, error) {
	ti, err := typeOf[T]()
	if err == nil && n < 0 {
		err = fmt.Errorf("%w: negative length %d", shm.ErrInvalidSize, n)
	}
	var g geometry
	if err == nil {
		g, err = computeGeometry(uint64(ti.Size), uint64(n), locked)
	}
	if err != nil {
		return shm.Object{}, g, ti, fmt.Errorf("array %q: %w", name, err)
	}
	obj, err := kind.Create(seg, name, ti, locked, uintptr(g.size), func(mem []byte) {
		writeHeader(mem, g)
		if len(init) > 0 && ti.Size > 0 {
			src := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(init))), uint64(len(init))*uint64(ti.Size))
			copy(mem[g.dataOff:], src)
		}
	})
	return obj, g, ti, err
}

// open finds an array object by name and checks it against T and against
// whether the caller wants the locked or the raw variant.
func open[T any](seg *shm.Segment, name string, locked bool) (shm.Object, geometry, typeInfo, error) {
	ti, err := typeOf[T]()
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("array %q: %w", name, err)
	}
	obj, g, err := kind.Open(seg, name, ti, locked)
	return obj, g, ti, err
}

// decode is GobDecode of Array and RawArray: it attaches the array a
// handle names, checked as open checks it, and lets fill make the handle.
func decode[T any](a *shm.Attachment, b []byte, locked bool, fill func(shm.Object, geometry, typeInfo)) error {
	ti, err := typeOf[T]()
	if err != nil {
		return fmt.Errorf("array: decode: %w", err)
	}
	return kind.Decode(a, b, ti, locked, func(obj shm.Object, g geometry) { fill(obj, g, ti) })
}
