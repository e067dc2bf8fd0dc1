package value

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/layout"
	"github.com/multiproc-go/multiproc/shm"
)

// ErrNotFixedSize is wrapped by New and Open when T cannot live in shared
// memory (it holds a pointer, string, slice, map, channel, func or
// interface); the message names the offending field.
var ErrNotFixedSize = layout.ErrNotFixedSize

// create makes a value object holding initial, locked or raw. The initial
// value is written before the object is published, so an opener never
// sees it unset.
func create[T any](seg *shm.Segment, name string, initial *T, locked bool) (shm.Object, geometry, typeInfo, error) {
	ti, err := typeOf[T]()
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("value %q: %w", name, err)
	}
	g := computeGeometry(ti.Size, locked)
	obj, err := kind.Create(seg, name, ti.Type, locked, g.size, func(mem []byte) {
		writeHeader(mem, g)
		writeInitial(mem[g.dataOff:], bytesOf(initial), ti.mask)
	})
	return obj, g, ti, err
}

// writeInitial copies T's bytes into the first data word or buffer (the one
// Seq = 0 names), padding zeroed. Nobody else sees the memory yet.
func writeInitial(dst, src []byte, mask []uint64) {
	copy(dst, src)
	for k, m := range mask {
		w := binary.NativeEndian.Uint64(dst[k*wordSize:])
		binary.NativeEndian.PutUint64(dst[k*wordSize:], w&m)
	}
}

// open finds a value object by name and checks it against T and against
// whether the caller wants the locked or the raw variant.
func open[T any](seg *shm.Segment, name string, locked bool) (shm.Object, geometry, typeInfo, error) {
	ti, err := typeOf[T]()
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("value %q: %w", name, err)
	}
	obj, g, err := kind.Open(seg, name, ti.Type, locked)
	return obj, g, ti, err
}

// decode is GobDecode of Value and RawValue: it attaches the value a
// handle names, checked as open checks it, and lets fill make the handle.
func decode[T any](a *shm.Attachment, b []byte, locked bool, fill func(shm.Object, geometry, typeInfo)) error {
	ti, err := typeOf[T]()
	if err != nil {
		return fmt.Errorf("value: decode: %w", err)
	}
	return kind.Decode(a, b, ti.Type, locked, func(obj shm.Object, g geometry) { fill(obj, g, ti) })
}

// bytesOf views a T as its bytes.
func bytesOf[T any](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}
