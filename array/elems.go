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
	e := elems[T]{seg: obj.Segment(), name: obj.Name, typ: ti.typ}
	e.atom, e.addMode, e.atomPanic, e.addPanic = atomicMode(ti.typ, obj.Name)
	n := int(g.length)
	switch {
	case n == 0:
		e.s = []T{}
	case ti.size == 0:
		// Zero-size elements take no memory: any valid address serves.
		e.s = unsafe.Slice((*T)(obj.Pointer(0)), n)
	default:
		// readHeader or create checked that n elements fit the object.
		p := (*T)(obj.Pointer(uintptr(g.dataOff)))
		e.s = unsafe.Slice(p, n)
	}
	return e
}

// create makes an array object of n elements, filled from init if it is
// not nil, before the object is published.
func create[T any](seg *shm.Segment, name string, n int, init []T, locked bool) (shm.Object, geometry, typeInfo, error) {
	ti, err := typeOf[T]()
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("array %q: %w", name, err)
	}
	if n < 0 {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("array %q: %w: negative length %d", name, shm.ErrInvalidSize, n)
	}
	g, err := computeGeometry(ti.size, uint64(n), locked)
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("array %q: %w", name, err)
	}
	spec := shm.Spec{Name: name, Kind: shm.KindArray, Size: int(g.size),
		ElemSize: uint32(ti.size), Fingerprint: ti.fingerprint}
	obj, err := seg.Create(spec, func(mem []byte) error {
		writeHeader(mem, g)
		if len(init) > 0 && ti.size > 0 {
			src := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(init))), uint64(len(init))*ti.size)
			copy(mem[g.dataOff:], src)
		}
		return nil
	})
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("array %q: %w", name, err)
	}
	return obj, g, ti, nil
}

// open finds an array object by name and checks it against T and against
// whether the caller wants the locked or the raw variant.
func open[T any](seg *shm.Segment, name string, locked bool) (shm.Object, geometry, typeInfo, error) {
	ti, err := typeOf[T]()
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("array %q: %w", name, err)
	}
	obj, err := seg.OpenObject(name, shm.KindArray, uint32(ti.size), ti.fingerprint)
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("array %q: %w", name, err)
	}
	h, g, err := readHeader(obj)
	if err == nil && uint64(h.ElemSize) != ti.size {
		err = fmt.Errorf("%w: array header says %d-byte elements, want %d", shm.ErrTypeMismatch, h.ElemSize, ti.size)
	}
	if err == nil && h.Len > uint64(maxLen) {
		err = fmt.Errorf("%w: array length %d does not fit an int", shm.ErrCorrupt, h.Len)
	}
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("array %q: %w", name, err)
	}
	if isLocked := h.Flags&flagLocked != 0; isLocked != locked {
		have, use := "raw array", "OpenRaw"
		if isLocked {
			have, use = "locked array", "Open"
		}
		return shm.Object{}, geometry{}, ti, fmt.Errorf("array %q: %w: it is a %s (open it with %s)", name, shm.ErrKindMismatch, have, use)
	}
	return obj, g, ti, nil
}

const maxLen = int(^uint(0) >> 1)

func decodeRef(b []byte) (*shm.Segment, string, error) {
	seg, name, err := shm.DecodeRef(b)
	if err != nil {
		return nil, "", fmt.Errorf("array: decode handle: %w", err)
	}
	if name == "" {
		_ = seg.Detach()
		return nil, "", fmt.Errorf("array: decode handle: %w: it names a segment, not an array", shm.ErrBadHandle)
	}
	return seg, name, nil
}
