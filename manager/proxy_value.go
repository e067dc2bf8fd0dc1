package manager

import (
	"fmt"
	"reflect"
)

// A Value is a proxy for one value that lives in the server: Python's
// manager.Value(). Not shared memory (package value is): every call is a
// round trip, atomic on the server. For a scalar T (a bool, number or
// string) the server can also compare and add, so CompareAndSwap and Add
// make compound updates without a lock. Safe for concurrent use; crosses
// to a child process as an argument.
type Value[T any] struct {
	r    *ref
	vals codec[T]
}

// NewValue creates a Value holding v on the server (or, Named, finds one).
func NewValue[T any](m *Manager, v T, opts ...ObjectOption) (*Value[T], error) {
	c := codecFor[T]()
	b, err := c.encode(v)
	if err != nil {
		return nil, err
	}
	r, err := m.create(typeValue, [][]byte{b}, opts)
	if err != nil {
		return nil, err
	}
	return &Value[T]{r: r, vals: c}, nil
}

// Get returns the value.
func (v *Value[T]) Get() (T, error) { return callValue(v.r, "Get", v.vals, true) }

// Set stores x.
func (v *Value[T]) Set(x T) error {
	_, err := callValue(v.r, "Set", v.vals, false, x)
	return err
}

// Swap stores x and returns the value it replaced.
func (v *Value[T]) Swap(x T) (T, error) { return callValue(v.r, "Swap", v.vals, true, x) }

// CompareAndSwap stores new if the value is old, and reports whether it
// did. T must be a scalar (ErrType otherwise): the server compares
// encodings, which only the canonical form makes faithful.
func (v *Value[T]) CompareAndSwap(old, new T) (bool, error) {
	if !v.vals.canon {
		return false, fmt.Errorf("manager: CompareAndSwap on a Value[%v]: scalars only: %w", reflect.TypeFor[T](), ErrType)
	}
	ob, err := v.vals.encode(old)
	if err != nil {
		return false, err
	}
	nb, err := v.vals.encode(new)
	if err != nil {
		return false, err
	}
	return v.r.bool("CompareAndSwap", ob, nb)
}

// Add adds delta on the server and returns the sum, wrapping at T's width
// as Go arithmetic does. T must be an integer or float type (ErrType
// otherwise). It is the manager's answer to Python's
// "with v.get_lock(): v.value += 1".
func (v *Value[T]) Add(delta T) (T, error) {
	var zero T
	if family(reflect.TypeFor[T]().Kind()) == 0 {
		return zero, fmt.Errorf("manager: Add on a Value[%v]: numbers only: %w", reflect.TypeFor[T](), ErrType)
	}
	return callValue(v.r, "Add", v.vals, true, delta)
}

// Detach releases this proxy's reference.
func (v *Value[T]) Detach() error { return v.r.close() }

// GobEncode packs the proxy to cross to another process.
func (v *Value[T]) GobEncode() ([]byte, error) { return v.r.encode() }

// GobDecode attaches to the Value a GobEncode packed.
func (v *Value[T]) GobDecode(b []byte) error {
	r, err := decodeRef(b, typeValue, nil)
	if err != nil {
		return err
	}
	*v = Value[T]{r: r, vals: codecFor[T]()}
	return nil
}

// An Array is a proxy for a fixed-length sequence that lives in the
// server: Python's manager.Array(). Indexes are Python's (negative counts
// from the end); Slice and SetSlice take Go's bounds. Safe for concurrent
// use; crosses to a child process as an argument.
type Array[T any] struct {
	r    *ref
	vals codec[T]
}

// NewArray creates an Array holding a copy of values (its length is
// len(values), for good) on the server (or, Named, finds one). For n zero
// values, pass make([]T, n).
func NewArray[T any](m *Manager, values []T, opts ...ObjectOption) (*Array[T], error) {
	c := codecFor[T]()
	bs, err := c.encodeAll(values)
	if err != nil {
		return nil, err
	}
	r, err := m.create(typeArray, bs, opts)
	if err != nil {
		return nil, err
	}
	return &Array[T]{r: r, vals: c}, nil
}

// Len returns the length.
func (a *Array[T]) Len() (int, error) { return a.r.int("Len") }

// Get returns element i, or ErrIndex.
func (a *Array[T]) Get(i int) (T, error) {
	b, err := a.r.one(bg, "Get", intArg(int64(i)))
	if err != nil {
		var zero T
		return zero, err
	}
	return a.vals.decode(b)
}

// Set replaces element i, or fails with ErrIndex.
func (a *Array[T]) Set(i int, v T) error {
	b, err := a.vals.encode(v)
	if err != nil {
		return err
	}
	_, err = a.r.do("Set", intArg(int64(i)), b)
	return err
}

// Slice returns elements [lo:hi].
func (a *Array[T]) Slice(lo, hi int) ([]T, error) {
	res, err := a.r.do("Slice", intArg(int64(lo)), intArg(int64(hi)))
	if err != nil {
		return nil, err
	}
	return a.vals.decodeAll(res)
}

// All returns every element, from one moment.
func (a *Array[T]) All() ([]T, error) {
	res, err := a.r.do("All")
	if err != nil {
		return nil, err
	}
	return a.vals.decodeAll(res)
}

// SetSlice overwrites elements from lo on with vs, atomically; ErrIndex if
// they do not fit.
func (a *Array[T]) SetSlice(lo int, vs []T) error {
	bs, err := a.vals.encodeAll(vs)
	if err != nil {
		return err
	}
	_, err = a.r.do("SetSlice", append([][]byte{intArg(int64(lo))}, bs...)...)
	return err
}

// Detach releases this proxy's reference.
func (a *Array[T]) Detach() error { return a.r.close() }

// GobEncode packs the proxy to cross to another process.
func (a *Array[T]) GobEncode() ([]byte, error) { return a.r.encode() }

// GobDecode attaches to the Array a GobEncode packed.
func (a *Array[T]) GobDecode(b []byte) error {
	r, err := decodeRef(b, typeArray, nil)
	if err != nil {
		return err
	}
	*a = Array[T]{r: r, vals: codecFor[T]()}
	return nil
}
