package value

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/typedobj"
	"github.com/multiproc-go/multiproc/shm"
)

// The byte layout of a value object (shm.KindValue), header version 2.
// Offsets are from the object's first byte, which the segment aligns to 64
// bytes. The header's first 16 bytes, the mutex and the data's offset are
// typedobj's, shared with arrays.
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

	headerSize = typedobj.HeaderSize
	cacheLine  = 64
	wordSize   = 8 // the data word of a word-sized value

	maxElemSize = 1 << 30 // keeps every offset and size in 32 bits
)

// kind is how typedobj creates, opens and checks value objects.
var kind = &typedobj.Kind[geometry]{Noun: "value", Shm: shm.KindValue, Magic: magicValue,
	Version: layoutVersion, MaxElem: maxElemSize, Layout: layoutOf}

// header is the first 64 bytes of a value object.
type header struct {
	typedobj.Head // magicValue, layoutVersion, flags, sizeof(T)

	DataOff uint32 // first data byte, 64-aligned
	Stride  uint32 // bytes from one buffer to the next, 0 for a word-sized T
	Buffers uint32 // 1 (word-sized T) or 2
	_       uint32

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
	_ [unsafe.Offsetof(header{}.DataOff) - 16]byte
	_ [16 - unsafe.Offsetof(header{}.DataOff)]byte
)

// geometry is where the parts of a value object of some T lie.
type geometry struct {
	elemSize uintptr
	locked   bool
	dataOff  uintptr
	stride   uintptr // 0 for a word-sized T
	buffers  uintptr
	size     uintptr // the whole object
}

func computeGeometry(elemSize uintptr, locked bool) geometry {
	g := geometry{elemSize: elemSize, locked: locked, dataOff: typedobj.DataOff(locked), buffers: 1}
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
	typedobj.Type
	integer bool     // Add is allowed
	mask    []uint64 // per data word, the bits that are not padding; nil when T has no padding
}

func typeOf[T any]() (typeInfo, error) {
	tt, err := typedobj.TypeOf[T](kind)
	if err != nil {
		return typeInfo{}, err
	}
	t := tt.Typ
	ti := typeInfo{Type: tt}
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

// layoutOf checks the value's own header fields, past typedobj's common
// ones, against the geometry its element size implies and against the
// object's size.
func layoutOf(obj shm.Object, head typedobj.Head) (geometry, error) {
	p := (*header)(obj.Pointer(0))
	// Read once each: what was checked is what is used (Seq and Writer are
	// used in place).
	dataOff, stride, buffers := p.DataOff, p.Stride, p.Buffers
	g := computeGeometry(uintptr(head.ElemSize), head.Locked())
	if uintptr(dataOff) != g.dataOff || uintptr(stride) != g.stride || uintptr(buffers) != g.buffers {
		return g, fmt.Errorf("%w: value header geometry (data at %d, stride %d, %d buffers) differs from (%d, %d, %d)",
			shm.ErrCorrupt, dataOff, stride, buffers, g.dataOff, g.stride, g.buffers)
	}
	if obj.Size < uint64(g.size) {
		return g, fmt.Errorf("%w: value object of %d bytes, its layout needs %d", shm.ErrCorrupt, obj.Size, g.size)
	}
	return g, nil
}

// writeHeader fills a fresh (zero) object's own header fields; typedobj
// wrote the common ones.
func writeHeader(mem []byte, g geometry) {
	h := (*header)(unsafe.Pointer(&mem[0]))
	h.DataOff = uint32(g.dataOff)
	h.Stride = uint32(g.stride)
	h.Buffers = uint32(g.buffers)
}
