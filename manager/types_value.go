package manager

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"sync"
)

// valueObject is a Value on the server: one opaque value.
type valueObject struct {
	mu sync.Mutex
	v  []byte
}

func newValueObject(_ *Server, args [][]byte) (object, error) {
	return &valueObject{v: args[0]}, nil
}

// valueMethods run with the value's mutex held (see call).
var valueMethods = methods[*valueObject]{
	"Get": {0, func(o *valueObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		return [][]byte{o.v}, nil
	}},
	"Set": {1, func(o *valueObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		o.v = args[0]
		return nil, nil
	}},
	"Swap": {1, func(o *valueObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		old := o.v // -> the old value
		o.v = args[0]
		return [][]byte{old}, nil
	}},
	"CompareAndSwap": {2, func(o *valueObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		// old, new -> swapped; byte equality, so scalars only
		if string(o.v) != string(args[0]) {
			return [][]byte{boolArg(false)}, nil
		}
		o.v = args[1]
		return [][]byte{boolArg(true)}, nil
	}},
	"Add": {1, func(o *valueObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		sum, err := addCanon(o.v, args[0]) // delta -> the new value
		if err != nil {
			return nil, err
		}
		o.v = sum
		return [][]byte{sum}, nil
	}},
}

func (o *valueObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return valueMethods.call(o, "value", ctx, c, method, args)
}

// addCanon adds two canonical numbers of one family and returns the sum in
// v's kind, wrapping at its width as Go arithmetic does.
func addCanon(v, delta []byte) ([]byte, error) {
	if len(v) == 0 || len(delta) == 0 || family(reflect.Kind(v[0])) == 0 || family(reflect.Kind(v[0])) != family(reflect.Kind(delta[0])) {
		return nil, fmt.Errorf("add: needs two numbers of one kind (int, uint or float): %w", ErrType)
	}
	k := reflect.Kind(v[0])
	switch family(k) {
	case 1:
		a, n1 := binary.Varint(v[1:])
		b, n2 := binary.Varint(delta[1:])
		if n1 <= 0 || n2 <= 0 {
			return nil, fmt.Errorf("add: bad int: %w", ErrType)
		}
		return binary.AppendVarint([]byte{byte(k)}, wrapInt(k, a+b)), nil
	case 2:
		a, n1 := binary.Uvarint(v[1:])
		b, n2 := binary.Uvarint(delta[1:])
		if n1 <= 0 || n2 <= 0 {
			return nil, fmt.Errorf("add: bad uint: %w", ErrType)
		}
		return binary.AppendUvarint([]byte{byte(k)}, wrapUint(k, a+b)), nil
	default:
		if len(v) != 9 || len(delta) != 9 {
			return nil, fmt.Errorf("add: bad float: %w", ErrType)
		}
		s := math.Float64frombits(binary.BigEndian.Uint64(v[1:])) + math.Float64frombits(binary.BigEndian.Uint64(delta[1:]))
		if k == reflect.Float32 {
			s = float64(float32(s))
		}
		return binary.BigEndian.AppendUint64([]byte{byte(k)}, math.Float64bits(s)), nil
	}
}

func wrapInt(k reflect.Kind, x int64) int64 {
	switch k {
	case reflect.Int8:
		return int64(int8(x))
	case reflect.Int16:
		return int64(int16(x))
	case reflect.Int32:
		return int64(int32(x))
	}
	return x
}

func wrapUint(k reflect.Kind, x uint64) uint64 {
	switch k {
	case reflect.Uint8:
		return uint64(uint8(x))
	case reflect.Uint16:
		return uint64(uint16(x))
	case reflect.Uint32:
		return uint64(uint32(x))
	}
	return x
}

// arrayObject is an Array on the server: a fixed number of opaque values.
type arrayObject struct {
	mu    sync.Mutex
	items [][]byte
}

func newArrayObject(_ *Server, args [][]byte) (object, error) {
	return &arrayObject{items: append([][]byte(nil), args...)}, nil
}

// arrayMethods run with the array's mutex held (see call).
var arrayMethods = methods[*arrayObject]{
	"Len": {0, func(a *arrayObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		return [][]byte{intArg(int64(len(a.items)))}, nil
	}},
	"Get": {1, func(a *arrayObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		i, err := index(args[0], len(a.items))
		if err != nil {
			return nil, err
		}
		return [][]byte{a.items[i]}, nil
	}},
	"Set": {2, func(a *arrayObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		i, err := index(args[0], len(a.items))
		if err != nil {
			return nil, err
		}
		a.items[i] = args[1]
		return nil, nil
	}},
	"All": {0, func(a *arrayObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		return append([][]byte(nil), a.items...), nil
	}},
	"Slice": {2, func(a *arrayObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		lo, hi, err := bounds(args, len(a.items))
		if err != nil {
			return nil, err
		}
		return append([][]byte(nil), a.items[lo:hi]...), nil
	}},
	"SetSlice": {anyArgs, func(a *arrayObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		// lo, values...: all or nothing
		if len(args) < 1 {
			return nil, fmt.Errorf("SetSlice: no offset: %w", ErrBadArgs)
		}
		lo, err := getInt(args[0])
		if err != nil {
			return nil, err
		}
		vs := args[1:]
		if lo < 0 || lo > int64(len(a.items)) || int64(len(vs)) > int64(len(a.items))-lo {
			return nil, fmt.Errorf("%d values at %d of %d: %w", len(vs), lo, len(a.items), ErrIndex)
		}
		copy(a.items[lo:], vs)
		return nil, nil
	}},
}

func (a *arrayObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return arrayMethods.call(a, "array", ctx, c, method, args)
}

// namespaceObject is a Namespace on the server: named opaque values.
type namespaceObject struct {
	mu    sync.Mutex
	attrs map[string][]byte
}

func newNamespaceObject(_ *Server, args [][]byte) (object, error) {
	if len(args)%2 != 0 {
		return nil, fmt.Errorf("namespace: odd number of name/value arguments: %w", ErrBadArgs)
	}
	ns := &namespaceObject{attrs: map[string][]byte{}}
	for i := 0; i < len(args); i += 2 {
		ns.attrs[string(args[i])] = args[i+1]
	}
	return ns, nil
}

// namespaceMethods run with the namespace's mutex held (see call).
var namespaceMethods = methods[*namespaceObject]{
	"Get": {1, func(ns *namespaceObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		v, ok := ns.attrs[string(args[0])]
		if !ok {
			return nil, fmt.Errorf("attribute %q: %w", args[0], ErrNotFound)
		}
		return [][]byte{v}, nil
	}},
	"Set": {2, func(ns *namespaceObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		ns.attrs[string(args[0])] = args[1]
		return nil, nil
	}},
	"Delete": {1, func(ns *namespaceObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		_, ok := ns.attrs[string(args[0])]
		delete(ns.attrs, string(args[0]))
		return [][]byte{boolArg(ok)}, nil
	}},
	"Names": {0, func(ns *namespaceObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		out := make([][]byte, 0, len(ns.attrs))
		for k := range ns.attrs {
			out = append(out, []byte(k))
		}
		return out, nil
	}},
}

func (ns *namespaceObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return namespaceMethods.call(ns, "namespace", ctx, c, method, args)
}
