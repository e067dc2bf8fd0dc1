package array

import (
	"fmt"
	"math"
	"reflect"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/layout"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// The byte layout of an array object (shm.KindArray), version 1. Offsets
// are from the object's first byte, which the segment aligns to 64 bytes.
//
//	0    header    64 bytes, immutable once published (below)
//	64   mutex     semaphore.MutexSize bytes, a cache line of its own
//	               (locked arrays only)
//	D    elements  D = 64 (raw) or 64+MutexSize (locked), 64-aligned:
//	               Len elements of ElemSize bytes, back to back as in a Go
//	               slice, then zero padding to a multiple of 8 bytes so that
//	               the aligned word around any 1- or 2-byte element is
//	               inside the object
//
// Open checks every field against the opener's T and against the object's
// size: a forged Len cannot make the view run past the object.
const (
	magicArray    uint32 = 0x5241504d // "MPAR" in little-endian byte order
	layoutVersion uint32 = 1

	headerSize = 64
	cacheLine  = 64
	tailAlign  = 8

	flagLocked uint32 = 1 << 0 // a mutex follows the header
	knownFlags        = flagLocked

	// maxBytes bounds an array's elements (and a zero-size T's length), so
	// that every size computation stays far from overflow.
	maxBytes = 1 << 40
)

type header struct {
	Magic    uint32 // magicArray
	Version  uint32 // layoutVersion
	Flags    uint32 // flagLocked
	ElemSize uint32 // unsafe.Sizeof(T)
	Len      uint64 // elements
	DataOff  uint32 // first element, 64-aligned
	_        [36]byte
}

// Compile-time layout checks: a mismatch fails to build.
var (
	_ [headerSize - unsafe.Sizeof(header{})]byte
	_ [unsafe.Sizeof(header{}) - headerSize]byte
	_ [0]byte = [headerSize % semaphore.MutexAlign]byte{}
	_ [0]byte = [semaphore.MutexSize % cacheLine]byte{}
)

// geometry is where the parts of an array object lie.
type geometry struct {
	elemSize, length uint64
	flags            uint32
	dataOff          uint64
	size             uint64 // the whole object
}

// computeGeometry lays out n elements of elemSize bytes, or fails if they
// would not fit the limits.
func computeGeometry(elemSize, n uint64, locked bool) (geometry, error) {
	g := geometry{elemSize: elemSize, length: n, dataOff: headerSize}
	if locked {
		g.flags = flagLocked
		g.dataOff += semaphore.MutexSize
	}
	if n > maxBytes || (elemSize != 0 && n > maxBytes/elemSize) {
		return g, fmt.Errorf("%w: %d elements of %d bytes exceed %d bytes", shm.ErrInvalidSize, n, elemSize, uint64(maxBytes))
	}
	g.size = g.dataOff + alignUp(n*elemSize, tailAlign)
	return g, nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// typeInfo is what an array object needs to know about T.
type typeInfo struct {
	typ         reflect.Type
	size        uint64
	fingerprint uint64
}

func typeOf[T any]() (typeInfo, error) {
	t := reflect.TypeFor[T]()
	if err := layout.FixedSize(t); err != nil {
		return typeInfo{}, err
	}
	if t.Size() > math.MaxUint32 {
		return typeInfo{}, fmt.Errorf("%w: %s is %d bytes", shm.ErrInvalidSize, t, t.Size())
	}
	ti := typeInfo{typ: t, size: uint64(t.Size()), fingerprint: layout.Fingerprint(t)}
	return ti, nil
}

// readHeader copies an object's header out of shared memory and checks it
// on its own terms: magic, version, flags, and a geometry the object's size
// holds. The caller compares ElemSize with its T.
func readHeader(obj shm.Object) (header, geometry, error) {
	if obj.Size < headerSize {
		return header{}, geometry{}, fmt.Errorf("%w: object of %d bytes is too short for an array header", shm.ErrCorrupt, obj.Size)
	}
	p := (*header)(obj.Pointer(0))
	h := header{Magic: p.Magic, Version: p.Version, Flags: p.Flags, ElemSize: p.ElemSize, Len: p.Len, DataOff: p.DataOff}
	if h.Magic != magicArray {
		return h, geometry{}, fmt.Errorf("%w: bad array magic %#x", shm.ErrCorrupt, h.Magic)
	}
	if h.Version != layoutVersion {
		return h, geometry{}, fmt.Errorf("%w: array layout version %d, want %d", shm.ErrVersion, h.Version, layoutVersion)
	}
	if h.Flags&^knownFlags != 0 {
		return h, geometry{}, fmt.Errorf("%w: unknown array flags %#x", shm.ErrCorrupt, h.Flags)
	}
	if h.ElemSize != obj.ElemSize {
		return h, geometry{}, fmt.Errorf("%w: array header says %d-byte elements, its directory entry %d",
			shm.ErrCorrupt, h.ElemSize, obj.ElemSize)
	}
	g, err := computeGeometry(uint64(h.ElemSize), h.Len, h.Flags&flagLocked != 0)
	if err != nil {
		return h, g, fmt.Errorf("%w: array header: %w", shm.ErrCorrupt, err)
	}
	if uint64(h.DataOff) != g.dataOff {
		return h, g, fmt.Errorf("%w: array data at %d, want %d", shm.ErrCorrupt, h.DataOff, g.dataOff)
	}
	if obj.Size < g.size {
		return h, g, fmt.Errorf("%w: array of %d %d-byte elements needs %d bytes, the object has %d",
			shm.ErrCorrupt, h.Len, h.ElemSize, g.size, obj.Size)
	}
	return h, g, nil
}

func writeHeader(mem []byte, g geometry) {
	h := (*header)(unsafe.Pointer(&mem[0]))
	h.Magic = magicArray
	h.Version = layoutVersion
	h.Flags = g.flags
	h.ElemSize = uint32(g.elemSize)
	h.Len = g.length
	h.DataOff = uint32(g.dataOff)
}
