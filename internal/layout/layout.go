// Package layout decides whether a Go type can be copied into shared memory
// as plain bytes, and fingerprints its layout so that a process opening an
// object with another type gets an error instead of garbage.
//
// A type is fixed-size when it holds no pointer of any kind: no pointers,
// strings, slices, maps, channels, funcs, interfaces or unsafe.Pointer, at
// any depth. Such a value means the same bytes in every process.
package layout

import (
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
)

// ErrNotFixedSize is wrapped by FixedSize's error.
var ErrNotFixedSize = errors.New("type is not fixed-size")

// FixedSize returns nil when t can cross processes as bytes, or an error
// that names the offending field path, e.g. "Order.Items: slice".
func FixedSize(t reflect.Type) error {
	if t == nil {
		return fmt.Errorf("%w: nil type", ErrNotFixedSize)
	}
	if path, kind, ok := firstPointer(t, t.String()); !ok {
		return fmt.Errorf("%w: %s holds a %s", ErrNotFixedSize, path, kind)
	}
	return nil
}

func firstPointer(t reflect.Type, path string) (string, string, bool) {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return "", "", true
	case reflect.Array:
		return firstPointer(t.Elem(), path+"[]")
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if p, k, ok := firstPointer(f.Type, path+"."+f.Name); !ok {
				return p, k, false
			}
		}
		return "", "", true
	default:
		return path, t.Kind().String(), false
	}
}

// Fingerprint hashes t's layout: kinds, sizes, alignments, field names and
// offsets, recursively. Two types with the same fingerprint lay out their
// bytes the same way; the type's own name is left out so that a program and
// its tests may declare the same struct under different names.
func Fingerprint(t reflect.Type) uint64 {
	h := fnv.New64a()
	writeLayout(h, t)
	return h.Sum64()
}

type writer interface{ Write([]byte) (int, error) }

func writeLayout(w writer, t reflect.Type) {
	fmt.Fprintf(w, "%s/%d/%d", t.Kind(), t.Size(), t.Align())
	switch t.Kind() {
	case reflect.Array:
		fmt.Fprintf(w, "[%d]", t.Len())
		writeLayout(w, t.Elem())
	case reflect.Struct:
		fmt.Fprintf(w, "{")
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(w, "%s@%d:", f.Name, f.Offset)
			writeLayout(w, f.Type)
			fmt.Fprintf(w, ";")
		}
		fmt.Fprintf(w, "}")
	}
}
