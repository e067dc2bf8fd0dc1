package manager

import (
	"fmt"
	"reflect"
)

// A Dict is a proxy for a map that lives in the server: Python's
// manager.dict(). Keys are compared on the server by their canonical
// encoding (see codec.go), so K must be a scalar (bool, a number, a
// string), an array or struct of them with exported fields, or an
// interface holding a scalar; values are any gob-encodable V. Keys and
// Items come back in insertion order, as Python's dict keeps them.
//
// Every method is one round trip and is atomic on the server. A Dict is
// safe for concurrent use; it crosses to a child process as an argument.
type Dict[K comparable, V any] struct {
	r    *ref
	keys keyCodec[K]
	vals codec[V]
}

// An Item is one key and its value.
type Item[K comparable, V any] struct {
	Key   K
	Value V
}

// NewDict creates an empty Dict on the server (or, Named, finds one).
func NewDict[K comparable, V any](m *Manager, opts ...ObjectOption) (*Dict[K, V], error) {
	if err := keyable(reflect.TypeFor[K]()); err != nil {
		return nil, fmt.Errorf("manager: NewDict: %w", err)
	}
	r, err := m.create(typeDict, nil, opts)
	if err != nil {
		return nil, err
	}
	return &Dict[K, V]{r: r, vals: codecFor[V]()}, nil
}

// keyable checks statically that t can be a key.
func keyable(t reflect.Type) error {
	switch k := t.Kind(); {
	case scalarKind(k), k == reflect.Interface:
		return nil
	case k == reflect.Array:
		return keyable(t.Elem())
	case k == reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				return fmt.Errorf("key type %v: unexported field %s: %w", t, f.Name, ErrType)
			}
			if err := keyable(f.Type); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("type %v cannot be a key: %w", t, ErrType)
}

// Get returns the value for k, or ErrNotFound (Python's KeyError).
func (d *Dict[K, V]) Get(k K) (V, error) {
	return callKeyed(d.r, "Get", d.keys, k, d.vals, nil, true)
}

// Set stores v under k.
func (d *Dict[K, V]) Set(k K, v V) error {
	_, err := callKeyed(d.r, "Set", d.keys, k, d.vals, &v, false)
	return err
}

// SetDefault stores v under k unless k is present, and returns the value
// now stored (Python's setdefault).
func (d *Dict[K, V]) SetDefault(k K, v V) (V, error) {
	var zero V
	kb, err := d.keys.encode(k)
	if err != nil {
		return zero, err
	}
	vb, err := d.vals.encode(v)
	if err != nil {
		return zero, err
	}
	b, err := d.r.one(bg, "SetDefault", kb, vb)
	if err != nil {
		return zero, err
	}
	return d.vals.decode(b)
}

// Has reports whether k is present.
func (d *Dict[K, V]) Has(k K) (bool, error) {
	kb, err := d.keys.encode(k)
	if err != nil {
		return false, err
	}
	return d.r.bool("Has", kb)
}

// Delete removes k and reports whether it was present.
func (d *Dict[K, V]) Delete(k K) (bool, error) {
	kb, err := d.keys.encode(k)
	if err != nil {
		return false, err
	}
	return d.r.bool("Delete", kb)
}

// Pop removes k and returns its value, or ErrNotFound.
func (d *Dict[K, V]) Pop(k K) (V, error) {
	var zero V
	kb, err := d.keys.encode(k)
	if err != nil {
		return zero, err
	}
	b, err := d.r.one(bg, "Pop", kb)
	if err != nil {
		return zero, err
	}
	return d.vals.decode(b)
}

// Len returns the number of keys.
func (d *Dict[K, V]) Len() (int, error) { return d.r.int("Len") }

// Keys returns the keys in insertion order.
func (d *Dict[K, V]) Keys() ([]K, error) {
	res, err := d.r.do("Keys")
	if err != nil {
		return nil, err
	}
	out := make([]K, len(res))
	for i, b := range res {
		if out[i], err = d.keys.decode(b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Values returns the values in their keys' insertion order.
func (d *Dict[K, V]) Values() ([]V, error) {
	res, err := d.r.do("Values")
	if err != nil {
		return nil, err
	}
	return d.vals.decodeAll(res)
}

// Items returns every key and value, in insertion order, from one moment.
func (d *Dict[K, V]) Items() ([]Item[K, V], error) {
	res, err := d.r.do("Items")
	if err != nil {
		return nil, err
	}
	if len(res)%2 != 0 {
		return nil, fmt.Errorf("manager: %v: odd item list: %w", d.r.site("Items"), ErrProtocol)
	}
	out := make([]Item[K, V], len(res)/2)
	for i := range out {
		if out[i].Key, err = d.keys.decode(res[2*i]); err != nil {
			return nil, err
		}
		if out[i].Value, err = d.vals.decode(res[2*i+1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Update stores every entry of m, atomically.
func (d *Dict[K, V]) Update(m map[K]V) error {
	args := make([][]byte, 0, 2*len(m))
	for k, v := range m {
		kb, err := d.keys.encode(k)
		if err != nil {
			return err
		}
		vb, err := d.vals.encode(v)
		if err != nil {
			return err
		}
		args = append(args, kb, vb)
	}
	_, err := d.r.do("Update", args...)
	return err
}

// Clear removes every key.
func (d *Dict[K, V]) Clear() error {
	_, err := d.r.do("Clear")
	return err
}

// Detach releases this proxy's reference (see the package doc's Lifetime).
func (d *Dict[K, V]) Detach() error { return d.r.close() }

// GobEncode packs the proxy to cross to another process.
func (d *Dict[K, V]) GobEncode() ([]byte, error) { return d.r.encode() }

// GobDecode attaches to the Dict a GobEncode packed.
func (d *Dict[K, V]) GobDecode(b []byte) error {
	if err := keyable(reflect.TypeFor[K]()); err != nil {
		return err
	}
	r, err := decodeRef(b, typeDict, nil)
	if err != nil {
		return err
	}
	*d = Dict[K, V]{r: r, vals: codecFor[V]()}
	return nil
}
