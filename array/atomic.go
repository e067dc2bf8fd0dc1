package array

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"unsafe"
)

// Element atomics work where sync/atomic does: on elements of 4 or 8 bytes
// that are one scalar — an integer, a float, complex64, or a type defined
// on one. Elements sit back to back from a 64-byte aligned start and Go
// sizes are multiples of alignments, so such an element is aligned to its
// size: one atomic word. There are no 8- or 16-bit atomics; guard 1- and
// 2-byte elements with the lock. Add is for integers.
//
// Each operation is a bounds check, a switch on a field set at New/Open,
// and an intrinsic, with no call (a misuse panics with a value made at
// New/Open), so that it inlines into the caller.
const (
	atomNone uint8 = iota // no element atomics: they panic
	atom64                // one uint64 per element
	atom32                // one uint32 per element
)

// atomicMode says how element atomics and Add work for t, and what they
// panic with when they do not.
func atomicMode(t reflect.Type, name string) (atom, add uint8, atomPanic, addPanic any) {
	integer := false
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		integer = true
	case reflect.Float32, reflect.Float64, reflect.Complex64:
	default:
		atomPanic = fmt.Sprintf("array %q: element atomics on %v elements: they need 4- or 8-byte integer, float or complex64 elements", name, t)
		return atomNone, atomNone, atomPanic, atomPanic
	}
	switch t.Size() {
	case 8:
		atom = atom64
	case 4:
		atom = atom32
	default:
		atomPanic = fmt.Sprintf("array %q: element atomics on %d-byte %v elements: there are none for 1- or 2-byte words (use the lock)", name, t.Size(), t)
		return atomNone, atomNone, atomPanic, atomPanic
	}
	if !integer {
		return atom, atomNone, nil, fmt.Sprintf("array %q: Add on %v elements, which are not integers", name, t)
	}
	return atom, atom, nil, nil
}

func (e *elems[T]) load(i int) (x T) {
	p := unsafe.Pointer(&e.s[i])
	switch e.atom {
	case atom64:
		*(*uint64)(unsafe.Pointer(&x)) = atomic.LoadUint64((*uint64)(p))
	case atom32:
		*(*uint32)(unsafe.Pointer(&x)) = atomic.LoadUint32((*uint32)(p))
	default:
		panic(e.atomPanic)
	}
	return x
}

func (e *elems[T]) store(i int, x T) {
	p, v := unsafe.Pointer(&e.s[i]), unsafe.Pointer(&x)
	switch e.atom {
	case atom64:
		atomic.StoreUint64((*uint64)(p), *(*uint64)(v))
	case atom32:
		atomic.StoreUint32((*uint32)(p), *(*uint32)(v))
	default:
		panic(e.atomPanic)
	}
}

func (e *elems[T]) swap(i int, x T) T {
	p, v := unsafe.Pointer(&e.s[i]), unsafe.Pointer(&x)
	switch e.atom {
	case atom64:
		*(*uint64)(v) = atomic.SwapUint64((*uint64)(p), *(*uint64)(v))
	case atom32:
		*(*uint32)(v) = atomic.SwapUint32((*uint32)(p), *(*uint32)(v))
	default:
		panic(e.atomPanic)
	}
	return x // now the previous value
}

func (e *elems[T]) compareAndSwap(i int, old, x T) bool {
	p, o, v := unsafe.Pointer(&e.s[i]), unsafe.Pointer(&old), unsafe.Pointer(&x)
	switch e.atom {
	case atom64:
		return atomic.CompareAndSwapUint64((*uint64)(p), *(*uint64)(o), *(*uint64)(v))
	case atom32:
		return atomic.CompareAndSwapUint32((*uint32)(p), *(*uint32)(o), *(*uint32)(v))
	}
	panic(e.atomPanic)
}

// add is Add: two's complement makes one unsigned addition right for
// signed and unsigned T alike, wrapping on overflow.
func (e *elems[T]) add(i int, delta T) T {
	p, d := unsafe.Pointer(&e.s[i]), unsafe.Pointer(&delta)
	switch e.addMode {
	case atom64:
		*(*uint64)(d) = atomic.AddUint64((*uint64)(p), *(*uint64)(d))
	case atom32:
		*(*uint32)(d) = atomic.AddUint32((*uint32)(p), *(*uint32)(d))
	default:
		panic(e.addPanic)
	}
	return delta // now the sum
}
