package value

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/multiproc-go/multiproc/shm"
)

// A cell is the data part of a value object as seen by one process: the
// atomic operations shared by Value and RawValue. How it reaches the shared
// bytes is chosen once, at New/Open, from T's size, so that each operation
// is one branch on a field and then one atomic instruction:
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
type cell[T any] struct {
	word   unsafe.Pointer // the data word, or the first buffer of a buffered value
	mode   uint8
	add    uint8        // how Add works: addNone when T is no integer
	size   uintptr      // unsafe.Sizeof(T)
	mask   []uint64     // padding mask per data word, nil when T has no padding
	seq    *uint32      // buffered values: header.Seq
	writer *uint32      // buffered values: header.Writer
	stride uintptr      // buffered values: bytes between buffers
	seg    *shm.Segment // for the writer claim's participant tag
	name   string       // for messages
	typ    fmt.Stringer // T, for messages
}

const (
	modeZero uint8 = iota
	mode32
	mode64
	modeSmall
	modeBuffered
)

const (
	addNone  uint8 = iota // T is not an integer: Add panics
	add64                 // 8-byte integer: one LOCK XADD
	add32                 // 4-byte integer
	addSmall              // 1- or 2-byte integer: CAS loop on the data word
)

// newCell points a cell at the data of a value object whose header has been
// written or validated, g being its geometry.
func newCell[T any](obj shm.Object, g geometry, ti typeInfo) cell[T] {
	c := cell[T]{size: ti.size, mask: ti.mask, seg: obj.Segment(), name: obj.Name, typ: ti.typ}
	if ti.size == 0 {
		c.mode = modeZero
		return c
	}
	c.word = obj.Pointer(g.dataOff)
	switch {
	case ti.size > wordSize:
		c.mode = modeBuffered
		c.stride = g.stride
		c.seq = obj.Uint32(unsafe.Offsetof(header{}.Seq))
		c.writer = obj.Uint32(unsafe.Offsetof(header{}.Writer))
	case ti.size == 8 && ti.mask == nil:
		c.mode = mode64
	case ti.size == 4 && ti.mask == nil:
		c.mode = mode32
	default:
		c.mode = modeSmall
	}
	if ti.integer {
		switch ti.size {
		case 8:
			c.add = add64
		case 4:
			c.add = add32
		default:
			c.add = addSmall
		}
	}
	return c
}

// bytesOf views a T as its bytes.
func bytesOf[T any](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}

func wordBytes(w *uint64) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(w)), wordSize) }

// toWord packs a small T into a data word: T's bytes first, padding and the
// rest zero.
func (c *cell[T]) toWord(x *T) uint64 {
	var w uint64
	copy(wordBytes(&w), bytesOf(x))
	if c.mask != nil {
		w &= c.mask[0]
	}
	return w
}

func (c *cell[T]) fromWord(w uint64) T {
	var x T
	copy(bytesOf(&x), wordBytes(&w))
	return x
}

// Load fast paths are kept apart from the slow ones so that they inline:
// the conversions through unsafe.Pointer are exact, the branch taken only
// when T is as wide as the word.

func (c *cell[T]) load() T {
	switch c.mode {
	case mode64:
		w := atomic.LoadUint64((*uint64)(c.word))
		return *(*T)(unsafe.Pointer(&w))
	case mode32:
		w := atomic.LoadUint32((*uint32)(c.word))
		return *(*T)(unsafe.Pointer(&w))
	}
	return c.loadSlow()
}

func (c *cell[T]) loadSlow() T {
	var x T
	switch c.mode {
	case modeSmall:
		x = c.fromWord(atomic.LoadUint64((*uint64)(c.word)))
	case modeBuffered:
		c.loadBuffered(&x)
	}
	return x
}

func (c *cell[T]) store(x T) {
	switch c.mode {
	case mode64:
		atomic.StoreUint64((*uint64)(c.word), *(*uint64)(unsafe.Pointer(&x)))
		return
	case mode32:
		atomic.StoreUint32((*uint32)(c.word), *(*uint32)(unsafe.Pointer(&x)))
		return
	}
	c.storeSlow(&x)
}

func (c *cell[T]) storeSlow(x *T) {
	switch c.mode {
	case modeSmall:
		atomic.StoreUint64((*uint64)(c.word), c.toWord(x))
	case modeBuffered:
		c.storeBuffered(x)
	}
}

func (c *cell[T]) swap(x T) T {
	switch c.mode {
	case mode64:
		w := atomic.SwapUint64((*uint64)(c.word), *(*uint64)(unsafe.Pointer(&x)))
		return *(*T)(unsafe.Pointer(&w))
	case mode32:
		w := atomic.SwapUint32((*uint32)(c.word), *(*uint32)(unsafe.Pointer(&x)))
		return *(*T)(unsafe.Pointer(&w))
	case modeSmall:
		return c.fromWord(atomic.SwapUint64((*uint64)(c.word), c.toWord(&x)))
	case modeBuffered:
		return c.swapBuffered(&x)
	}
	return x
}

func (c *cell[T]) compareAndSwap(old, x T) bool {
	switch c.mode {
	case mode64:
		return atomic.CompareAndSwapUint64((*uint64)(c.word), *(*uint64)(unsafe.Pointer(&old)), *(*uint64)(unsafe.Pointer(&x)))
	case mode32:
		return atomic.CompareAndSwapUint32((*uint32)(c.word), *(*uint32)(unsafe.Pointer(&old)), *(*uint32)(unsafe.Pointer(&x)))
	case modeSmall:
		// Every writer stores padding as zero, so the masked old matches
		// the stored word exactly when the fields are equal.
		return atomic.CompareAndSwapUint64((*uint64)(c.word), c.toWord(&old), c.toWord(&x))
	case modeBuffered:
		return c.compareAndSwapBuffered(&old, &x)
	}
	return true // a T with no bytes always equals old
}

// addDelta is Add. Two's complement makes one unsigned addition right for
// signed and unsigned T alike, wrapping on overflow as Go integers do.
func (c *cell[T]) addDelta(delta T) T {
	if c.add == add64 {
		w := atomic.AddUint64((*uint64)(c.word), *(*uint64)(unsafe.Pointer(&delta)))
		return *(*T)(unsafe.Pointer(&w))
	}
	return c.addSlow(delta)
}

func (c *cell[T]) addSlow(delta T) T {
	switch c.add {
	case add32:
		w := atomic.AddUint32((*uint32)(c.word), *(*uint32)(unsafe.Pointer(&delta)))
		return *(*T)(unsafe.Pointer(&w))
	case addSmall:
		// No 8- or 16-bit atomic add: CAS the whole word, whose other
		// bytes are always zero.
		p := (*uint64)(c.word)
		d := c.toWord(&delta)
		for {
			old := atomic.LoadUint64(p)
			nw := old
			b, db := wordBytes(&nw), wordBytes(&d)
			if c.size == 1 {
				b[0] += db[0]
			} else {
				*(*uint16)(unsafe.Pointer(&b[0])) += *(*uint16)(unsafe.Pointer(&db[0]))
			}
			if atomic.CompareAndSwapUint64(p, old, nw) {
				return c.fromWord(nw)
			}
		}
	}
	panic(fmt.Sprintf("value %q: Add on %v, which is not an integer type", c.name, c.typ))
}
