package value

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/layout"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// The byte layout of a value object (shm.KindValue), version 1. Offsets are
// from the object's first byte, which the segment aligns to 64 bytes.
//
//	0    header   64 bytes: immutable description (below), then the two
//	              mutable seqlock words of a buffered value
//	64   mutex    semaphore.MutexSize bytes (one cache line), locked values only
//	D    data     D = 64 (raw) or 64+MutexSize (locked), 64-aligned:
//	              word-sized T (at most 8 bytes): one 8-byte word holding
//	              T's bytes from its first byte, the rest zero;
//	              larger T: two buffers of T, each on cache lines of its
//	              own (Stride bytes apart), see seqlock.go
//
// The header is written once, before the object is published, and never
// changes except for Seq and Writer. Open checks every immutable field
// against what the opener's T implies: they are input from another process.
const (
	magicValue    uint32 = 0x4c56504d // "MPVL" in little-endian byte order
	layoutVersion uint32 = 2          // 2: the writer claim holds a 64-bit ID

	headerSize = 64
	cacheLine  = 64
	wordSize   = 8 // the data word of a word-sized value

	flagLocked uint32 = 1 << 0 // the object has a mutex after its header
	knownFlags        = flagLocked

	maxElemSize = 1 << 30 // keeps every offset and size in 32 bits
)

// header is the first 64 bytes of a value object.
type header struct {
	Magic    uint32 // magicValue
	Version  uint32 // layoutVersion
	Flags    uint32 // flagLocked
	ElemSize uint32 // unsafe.Sizeof(T)
	DataOff  uint32 // first data byte, 64-aligned
	Stride   uint32 // bytes from one buffer to the next, 0 for a word-sized T
	Buffers  uint32 // 1 (word-sized T) or 2
	_        uint32

	// Mutable (buffered values only): see seqlock.go.
	Seq    uint32   // stores completed; its low bit names the buffer to read
	_      uint32   //
	Writer uint64   // ID (shm.Segment.Self) of the process storing, 0 when none
	_      [16]byte // pad to 64
}

// Compile-time layout checks: a mismatch fails to build.
var (
	_ [headerSize - unsafe.Sizeof(header{})]byte
	_ [unsafe.Sizeof(header{}) - headerSize]byte
	_ [unsafe.Offsetof(header{}.Seq) - 32]byte
	_ [32 - unsafe.Offsetof(header{}.Seq)]byte

	// The mutex must sit where MutexAt accepts it, and the data after it
	// must start on a cache line.
	_ [0]byte = [headerSize % semaphore.MutexAlign]byte{}
	_ [0]byte = [semaphore.MutexSize % cacheLine]byte{}
)

// geometry is where the parts of a value object of some T lie.
type geometry struct {
	elemSize uintptr
	flags    uint32
	dataOff  uintptr
	stride   uintptr // 0 for a word-sized T
	buffers  uintptr
	size     uintptr // the whole object
}

func computeGeometry(elemSize uintptr, locked bool) geometry {
	g := geometry{elemSize: elemSize, dataOff: headerSize, buffers: 1}
	if locked {
		g.flags = flagLocked
		g.dataOff += semaphore.MutexSize
	}
	if elemSize <= wordSize {
		g.size = g.dataOff + wordSize
		return g
	}
	g.stride = alignUp(elemSize, cacheLine)
	g.buffers = 2
	g.size = g.dataOff + 2*g.stride
	return g
}

func alignUp(n, a uintptr) uintptr { return (n + a - 1) &^ (a - 1) }

// typeInfo is what a value object needs to know about T, computed once per
// New/Open.
type typeInfo struct {
	typ         reflect.Type
	size        uintptr
	fingerprint uint64
	integer     bool     // Add is allowed
	mask        []uint64 // per data word, the bits that are not padding; nil when T has no padding
}

func typeOf[T any]() (typeInfo, error) {
	t := reflect.TypeFor[T]()
	if err := layout.FixedSize(t); err != nil {
		return typeInfo{}, err
	}
	if t.Size() > maxElemSize {
		return typeInfo{}, fmt.Errorf("%w: %s is %d bytes, at most %d fit a value", shm.ErrInvalidSize, t, t.Size(), maxElemSize)
	}
	ti := typeInfo{typ: t, size: t.Size(), fingerprint: layout.Fingerprint(t)}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		ti.integer = true
	}
	ti.mask = paddingMask(t)
	return ti, nil
}

// paddingMask returns, for each 8-byte word of a T rounded up to whole words,
// the bits that belong to fields, or nil when T has no padding bytes (the
// common case, which then needs no masking). Padding bytes of a Go value are
// unspecified, so CompareAndSwap must not compare them and Store zeroes them.
func paddingMask(t reflect.Type) []uint64 {
	n := t.Size()
	used := make([]byte, alignUp(max(n, 1), wordSize))
	markUsed(t, 0, used)
	padded := false
	for i := uintptr(0); i < n; i++ {
		if used[i] == 0 {
			padded = true
			break
		}
	}
	if !padded {
		return nil
	}
	mask := make([]uint64, len(used)/wordSize)
	for i := range mask {
		mask[i] = wordOf(used[i*wordSize : (i+1)*wordSize])
	}
	return mask
}

func markUsed(t reflect.Type, off uintptr, used []byte) {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			markUsed(f.Type, off+f.Offset, used)
		}
	case reflect.Array:
		for i := range t.Len() {
			markUsed(t.Elem(), off+uintptr(i)*t.Elem().Size(), used)
		}
	default:
		for i := range t.Size() {
			used[off+i] = 0xff
		}
	}
}

// wordOf reads 8 bytes as a word in the host's byte order: the word then
// holds them at the same memory positions when stored.
func wordOf(b []byte) uint64 {
	var w uint64
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&w)), wordSize), b)
	return w
}

// readHeader copies an object's header out of shared memory and checks it
// on its own terms: magic, version, flags, and a geometry that the object's
// size can hold. The copy is what gets checked, so another process
// rewriting the header meanwhile cannot slip past. The caller compares
// ElemSize with its T.
func readHeader(obj shm.Object) (header, geometry, error) {
	if obj.Size < headerSize {
		return header{}, geometry{}, fmt.Errorf("%w: object of %d bytes is too short for a value header", shm.ErrCorrupt, obj.Size)
	}
	p := (*header)(obj.Pointer(0))
	// Immutable fields, read once each (Seq and Writer are used in place).
	h := header{Magic: p.Magic, Version: p.Version, Flags: p.Flags, ElemSize: p.ElemSize,
		DataOff: p.DataOff, Stride: p.Stride, Buffers: p.Buffers}
	if h.Magic != magicValue {
		return h, geometry{}, fmt.Errorf("%w: bad value magic %#x", shm.ErrCorrupt, h.Magic)
	}
	if h.Version != layoutVersion {
		return h, geometry{}, fmt.Errorf("%w: value layout version %d, want %d", shm.ErrVersion, h.Version, layoutVersion)
	}
	if h.Flags&^knownFlags != 0 {
		return h, geometry{}, fmt.Errorf("%w: unknown value flags %#x", shm.ErrCorrupt, h.Flags)
	}
	if h.ElemSize > maxElemSize || uint64(h.ElemSize) != uint64(obj.ElemSize) {
		return h, geometry{}, fmt.Errorf("%w: value header says %d-byte elements, its directory entry %d",
			shm.ErrCorrupt, h.ElemSize, obj.ElemSize)
	}
	g := computeGeometry(uintptr(h.ElemSize), h.Flags&flagLocked != 0)
	if uintptr(h.DataOff) != g.dataOff || uintptr(h.Stride) != g.stride || uintptr(h.Buffers) != g.buffers {
		return h, g, fmt.Errorf("%w: value header geometry (data at %d, stride %d, %d buffers) differs from (%d, %d, %d)",
			shm.ErrCorrupt, h.DataOff, h.Stride, h.Buffers, g.dataOff, g.stride, g.buffers)
	}
	if obj.Size < uint64(g.size) {
		return h, g, fmt.Errorf("%w: value object of %d bytes, its layout needs %d", shm.ErrCorrupt, obj.Size, g.size)
	}
	return h, g, nil
}

// writeHeader fills a fresh (zero) object's header.
func writeHeader(mem []byte, g geometry) {
	h := (*header)(unsafe.Pointer(&mem[0]))
	h.Magic = magicValue
	h.Version = layoutVersion
	h.Flags = g.flags
	h.ElemSize = uint32(g.elemSize)
	h.DataOff = uint32(g.dataOff)
	h.Stride = uint32(g.stride)
	h.Buffers = uint32(g.buffers)
}
