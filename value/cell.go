package value

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/multiproc-go/multiproc/shm"
)

// A cell is the data part of a value object as seen by one process: the
// atomic operations shared by Value and RawValue. How it reaches the shared
// bytes is chosen once, at New/Open, from T's size:
//
//	modeZero      T has no bytes (struct{}, [0]int): nothing is stored
//	mode32        T is 4 bytes without padding: one uint32
//	mode64        T is 8 bytes without padding: one uint64
//	modeSmall     T is 1..8 bytes otherwise: T's bytes at the start of the
//	              uint64 data word, padding and unused bytes kept zero
//	modeBuffered  T is larger: a double-buffered seqlock (seqlock.go)
//
// Every cell operation is atomic with respect to every other cell operation
// on the same object, in every process, for every T.
//
// The work is done by core, which is not generic and moves T's bytes
// through unsafe.Pointer; cell[T] only converts. Keeping the generic layer
// thin keeps its fast paths (an 8-byte T) within the inliner's budget: a
// call from generic code to generic code costs a dictionary argument.
type cell[T any] struct {
	w64 *uint64 // the data word when mode == mode64, else nil: the inlined fast path
	core
}

type core struct {
	word     unsafe.Pointer // the data word, or the first buffer of a buffered value
	mode     uint8
	add      uint8        // how Add works
	addPanic any          // what Add panics with when add == addNone
	size     uintptr      // unsafe.Sizeof(T)
	mask     []uint64     // padding mask per data word, nil when T has no padding
	seq      *uint32      // buffered values: header.Seq
	writer   *uint64      // buffered values: header.Writer
	stride   uintptr      // buffered values: bytes between buffers
	seg      *shm.Segment // for the writer claim's ID
	name     string       // for messages
	typ      fmt.Stringer // T, for messages
}

const (
	modeZero uint8 = iota
	mode32
	mode64
	modeSmall
	modeBuffered
)

const (
	addNone uint8 = iota // T is not a 4- or 8-byte integer: Add panics
	add64                // 8-byte integer: one atomic add (LOCK XADD)
	add32                // 4-byte integer
)

// newCell points a cell at the data of a value object whose header has been
// written or validated, g being its geometry.
func newCell[T any](obj shm.Object, g geometry, ti typeInfo) cell[T] {
	c := core{size: ti.Size, mask: ti.mask, seg: obj.Segment(), name: obj.Name, typ: ti.Typ}
	switch {
	case ti.integer && ti.Size == 8:
		c.add = add64
	case ti.integer && ti.Size == 4:
		c.add = add32
	case ti.integer:
		c.addPanic = fmt.Sprintf("value %q: Add on %v: there is no atomic add for %d-byte integers "+
			"(use a 4- or 8-byte integer, CompareAndSwap in a loop, or Update)", c.name, ti.Typ, ti.Size)
	default:
		c.addPanic = fmt.Sprintf("value %q: Add on %v, which is not an integer type", c.name, ti.Typ)
	}
	if ti.Size == 0 {
		return cell[T]{core: c}
	}
	c.word = obj.Pointer(g.dataOff)
	switch {
	case ti.Size > wordSize:
		c.mode = modeBuffered
		c.stride = g.stride
		c.seq = obj.Uint32(unsafe.Offsetof(header{}.Seq))
		c.writer = obj.Uint64(unsafe.Offsetof(header{}.Writer))
	case ti.Size == 8 && ti.mask == nil:
		c.mode = mode64
	case ti.Size == 4 && ti.mask == nil:
		c.mode = mode32
	default:
		c.mode = modeSmall
	}
	cl := cell[T]{core: c}
	if c.mode == mode64 {
		cl.w64 = (*uint64)(c.word)
	}
	return cl
}

// The generic layer: an 8-byte T inline, everything else through core.
// The conversions through unsafe.Pointer are exact where they are taken.

func (c *cell[T]) load() (x T) {
	if c.w64 != nil {
		*(*uint64)(unsafe.Pointer(&x)) = atomic.LoadUint64(c.w64)
		return x
	}
	c.loadInto(unsafe.Pointer(&x))
	return x
}

func (c *cell[T]) store(x T) {
	if c.w64 != nil {
		atomic.StoreUint64(c.w64, *(*uint64)(unsafe.Pointer(&x)))
		return
	}
	c.storeFrom(unsafe.Pointer(&x))
}

func (c *cell[T]) swap(x T) (old T) {
	if c.w64 != nil {
		*(*uint64)(unsafe.Pointer(&old)) = atomic.SwapUint64(c.w64, *(*uint64)(unsafe.Pointer(&x)))
		return old
	}
	c.swapFrom(unsafe.Pointer(&x), unsafe.Pointer(&old))
	return old
}

func (c *cell[T]) compareAndSwap(old, x T) bool {
	if c.w64 != nil {
		return atomic.CompareAndSwapUint64(c.w64, *(*uint64)(unsafe.Pointer(&old)), *(*uint64)(unsafe.Pointer(&x)))
	}
	return c.compareAndSwapFrom(unsafe.Pointer(&old), unsafe.Pointer(&x))
}

// addDelta is Add. Two's complement makes one unsigned addition right for
// signed and unsigned T alike, wrapping on overflow as Go integers do.
// Its body is all intrinsics and a panic with a value made at New/Open, no
// call, so that it inlines into the caller.
func (c *cell[T]) addDelta(delta T) T {
	d := unsafe.Pointer(&delta)
	switch c.add {
	case add64:
		*(*uint64)(d) = atomic.AddUint64((*uint64)(c.word), *(*uint64)(d))
	case add32:
		*(*uint32)(d) = atomic.AddUint32((*uint32)(c.word), *(*uint32)(d))
	default:
		panic(c.addPanic)
	}
	return delta // now the sum
}

// bytesAt views size bytes at p: a T of the cell's, on the caller's stack.
func (c *core) bytesAt(p unsafe.Pointer) []byte { return unsafe.Slice((*byte)(p), c.size) }

func wordBytes(w *uint64) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(w)), wordSize) }

// toWord packs a small T into a data word: T's bytes first, padding and the
// rest zero.
func (c *core) toWord(p unsafe.Pointer) uint64 {
	var w uint64
	copy(wordBytes(&w), c.bytesAt(p))
	if c.mask != nil {
		w &= c.mask[0]
	}
	return w
}

func (c *core) fromWord(w uint64, p unsafe.Pointer) { copy(c.bytesAt(p), wordBytes(&w)) }

func (c *core) loadInto(dst unsafe.Pointer) {
	switch c.mode {
	case mode64:
		*(*uint64)(dst) = atomic.LoadUint64((*uint64)(c.word))
	case mode32:
		*(*uint32)(dst) = atomic.LoadUint32((*uint32)(c.word))
	case modeSmall:
		c.fromWord(atomic.LoadUint64((*uint64)(c.word)), dst)
	case modeBuffered:
		c.loadBuffered(c.bytesAt(dst))
	}
}

func (c *core) storeFrom(src unsafe.Pointer) {
	switch c.mode {
	case mode64:
		atomic.StoreUint64((*uint64)(c.word), *(*uint64)(src))
	case mode32:
		atomic.StoreUint32((*uint32)(c.word), *(*uint32)(src))
	case modeSmall:
		atomic.StoreUint64((*uint64)(c.word), c.toWord(src))
	case modeBuffered:
		c.storeBuffered(c.bytesAt(src))
	}
}

func (c *core) swapFrom(src, old unsafe.Pointer) {
	switch c.mode {
	case mode64:
		*(*uint64)(old) = atomic.SwapUint64((*uint64)(c.word), *(*uint64)(src))
	case mode32:
		*(*uint32)(old) = atomic.SwapUint32((*uint32)(c.word), *(*uint32)(src))
	case modeSmall:
		c.fromWord(atomic.SwapUint64((*uint64)(c.word), c.toWord(src)), old)
	case modeBuffered:
		c.swapBuffered(c.bytesAt(src), c.bytesAt(old))
	}
}

func (c *core) compareAndSwapFrom(old, src unsafe.Pointer) bool {
	switch c.mode {
	case mode64:
		return atomic.CompareAndSwapUint64((*uint64)(c.word), *(*uint64)(old), *(*uint64)(src))
	case mode32:
		return atomic.CompareAndSwapUint32((*uint32)(c.word), *(*uint32)(old), *(*uint32)(src))
	case modeSmall:
		// Every writer stores padding as zero, so the masked old matches
		// the stored word exactly when the fields are equal.
		return atomic.CompareAndSwapUint64((*uint64)(c.word), c.toWord(old), c.toWord(src))
	case modeBuffered:
		return c.compareAndSwapBuffered(c.bytesAt(old), c.bytesAt(src))
	}
	return true // a T with no bytes always equals old
}
