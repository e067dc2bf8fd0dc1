package array

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/typedobj"
	"github.com/multiproc-go/multiproc/shm"
)

// The byte layout of an array object (shm.KindArray), header version 1.
// Offsets are from the object's first byte, which the segment aligns to 64
// bytes. The header's first 16 bytes, the mutex and the data's offset are
// typedobj's, shared with values.
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

	headerSize = typedobj.HeaderSize
	tailAlign  = 8

	// maxBytes bounds an array's elements (and a zero-size T's length), so
	// that every size computation stays far from overflow.
	maxBytes = 1 << 40
)

// kind is how typedobj creates, opens and checks array objects.
var kind = &typedobj.Kind[geometry]{Noun: "array", Shm: shm.KindArray, Magic: magicArray,
	Version: layoutVersion, MaxElem: math.MaxUint32, Layout: layoutOf}

type header struct {
	typedobj.Head        // magicArray, layoutVersion, flags, sizeof(T)
	Len           uint64 // elements
	DataOff       uint32 // first element, 64-aligned
	_             [36]byte
}

// Compile-time layout checks: a mismatch fails to build.
var (
	_ [headerSize - unsafe.Sizeof(header{})]byte
	_ [unsafe.Sizeof(header{}) - headerSize]byte
	_ [unsafe.Offsetof(header{}.Len) - 16]byte
	_ [16 - unsafe.Offsetof(header{}.Len)]byte
)

// geometry is where the parts of an array object lie.
type geometry struct {
	elemSize, length uint64
	locked           bool
	dataOff          uint64
	size             uint64 // the whole object
}

// computeGeometry lays out n elements of elemSize bytes, or fails if they
// would not fit the limits.
func computeGeometry(elemSize, n uint64, locked bool) (geometry, error) {
	g := geometry{elemSize: elemSize, length: n, locked: locked, dataOff: uint64(typedobj.DataOff(locked))}
	if n > maxBytes || (elemSize != 0 && n > maxBytes/elemSize) {
		return g, fmt.Errorf("%w: %d elements of %d bytes exceed %d bytes", shm.ErrInvalidSize, n, elemSize, uint64(maxBytes))
	}
	g.size = g.dataOff + alignUp(n*elemSize, tailAlign)
	return g, nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// typeInfo is what an array object needs to know about T.
type typeInfo = typedobj.Type

func typeOf[T any]() (typeInfo, error) { return typedobj.TypeOf[T](kind) }

// layoutOf checks the array's own header fields, past typedobj's common
// ones: a length the limits allow and an int holds, the data where the
// geometry puts it, and an object large enough for the elements, so that
// a forged Len cannot make the view run past the object.
func layoutOf(obj shm.Object, head typedobj.Head) (geometry, error) {
	p := (*header)(obj.Pointer(0))
	n, dataOff := p.Len, p.DataOff // read once each: what was checked is what is used
	g, err := computeGeometry(uint64(head.ElemSize), n, head.Locked())
	if err != nil {
		return g, fmt.Errorf("%w: array header: %w", shm.ErrCorrupt, err)
	}
	if n > uint64(maxLen) {
		return g, fmt.Errorf("%w: array length %d does not fit an int", shm.ErrCorrupt, n)
	}
	if uint64(dataOff) != g.dataOff {
		return g, fmt.Errorf("%w: array data at %d, want %d", shm.ErrCorrupt, dataOff, g.dataOff)
	}
	if obj.Size < g.size {
		return g, fmt.Errorf("%w: array of %d %d-byte elements needs %d bytes, the object has %d",
			shm.ErrCorrupt, n, head.ElemSize, g.size, obj.Size)
	}
	return g, nil
}

const maxLen = int(^uint(0) >> 1)

// writeHeader fills a fresh (zero) object's own header fields; typedobj
// wrote the common ones.
func writeHeader(mem []byte, g geometry) {
	h := (*header)(unsafe.Pointer(&mem[0]))
	h.Len = g.length
	h.DataOff = uint32(g.dataOff)
}
