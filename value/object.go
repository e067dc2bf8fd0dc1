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

// create makes a value object holding initial. The initial value is written
// before the object is published, so an opener never sees it unset.
func create[T any](seg *shm.Segment, name string, initial *T, locked bool) (shm.Object, geometry, typeInfo, error) {
	ti, err := typeOf[T]()
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("value %q: %w", name, err)
	}
	g := computeGeometry(ti.size, locked)
	spec := shm.Spec{Name: name, Kind: shm.KindValue, Size: int(g.size),
		ElemSize: uint32(ti.size), Fingerprint: ti.fingerprint}
	obj, err := seg.Create(spec, func(mem []byte) error {
		writeHeader(mem, g)
		writeInitial(mem[g.dataOff:], bytesOf(initial), ti.mask)
		return nil
	})
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("value %q: %w", name, err)
	}
	return obj, g, ti, nil
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
	obj, err := seg.OpenObject(name, shm.KindValue, uint32(ti.size), ti.fingerprint)
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("value %q: %w", name, err)
	}
	h, g, err := readHeader(obj)
	if err == nil && uintptr(h.ElemSize) != ti.size {
		// OpenObject compared the directory entry; the header must agree.
		err = fmt.Errorf("%w: value header says %d-byte elements, want %d", shm.ErrTypeMismatch, h.ElemSize, ti.size)
	}
	if err != nil {
		return shm.Object{}, geometry{}, ti, fmt.Errorf("value %q: %w", name, err)
	}
	if isLocked := h.Flags&flagLocked != 0; isLocked != locked {
		have, use := "raw value", "OpenRaw"
		if isLocked {
			have, use = "locked value", "Open"
		}
		return shm.Object{}, geometry{}, ti, fmt.Errorf("value %q: %w: it is a %s (open it with %s)", name, shm.ErrKindMismatch, have, use)
	}
	return obj, g, ti, nil
}

// decodeRef is GobDecode's first half: the segment and name a handle names.
func decodeRef(b []byte) (*shm.Segment, string, error) {
	seg, name, err := shm.DecodeRef(b)
	if err != nil {
		return nil, "", fmt.Errorf("value: decode handle: %w", err)
	}
	if name == "" {
		_ = seg.Detach()
		return nil, "", fmt.Errorf("value: decode handle: %w: it names a segment, not a value", shm.ErrBadHandle)
	}
	return seg, name, nil
}

// bytesOf views a T as its bytes.
func bytesOf[T any](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}
