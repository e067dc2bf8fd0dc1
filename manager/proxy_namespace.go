package manager

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"
	"sort"
)

// A Namespace is a proxy for a set of named values in the server: Python's
// manager.Namespace(), whose attributes become Get and Set by name. Each
// value is its own gob value, of any type: Set(name, 3) and a later
// Get(name, &x) with x of any type gob can decode an int into. Safe for
// concurrent use; crosses to a child process as an argument.
type Namespace struct {
	r *ref
}

// NewNamespace creates an empty Namespace on the server (or, Named, finds
// one).
func NewNamespace(m *Manager, opts ...ObjectOption) (*Namespace, error) {
	r, err := m.create(typeNamespace, nil, opts)
	if err != nil {
		return nil, err
	}
	return &Namespace{r: r}, nil
}

// Set stores v as attribute name. v must be gob-encodable (not a nil
// pointer).
func (ns *Namespace) Set(name string, v any) error {
	if v == nil {
		return fmt.Errorf("manager: namespace: Set(%q, nil): %w", name, ErrInvalid)
	}
	b, err := gobArg(reflect.ValueOf(v))
	if err != nil {
		return err
	}
	_, err = ns.r.do("Set", []byte(name), b)
	return err
}

// Get decodes attribute name into out, a non-nil pointer; ErrNotFound if
// there is none (Python's AttributeError).
func (ns *Namespace) Get(name string, out any) error {
	b, err := ns.r.one(bg, "Get", []byte(name))
	if err != nil {
		return err
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
		return fmt.Errorf("manager: namespace: %q into %T: %v: %w", name, out, err, ErrType)
	}
	return nil
}

// Delete removes attribute name and reports whether it was there.
func (ns *Namespace) Delete(name string) (bool, error) { return ns.r.bool("Delete", []byte(name)) }

// Names returns the attribute names, sorted.
func (ns *Namespace) Names() ([]string, error) {
	res, err := ns.r.do("Names")
	if err != nil {
		return nil, err
	}
	out := make([]string, len(res))
	for i, b := range res {
		out[i] = string(b)
	}
	sort.Strings(out)
	return out, nil
}

// Detach releases this proxy's reference.
func (ns *Namespace) Detach() error { return ns.r.close() }

// GobEncode packs the proxy to cross to another process.
func (ns *Namespace) GobEncode() ([]byte, error) { return ns.r.encode() }

// GobDecode attaches to the Namespace a GobEncode packed.
func (ns *Namespace) GobDecode(b []byte) error {
	r, err := decodeRef(b, typeNamespace, nil)
	if err != nil {
		return err
	}
	ns.r = r
	return nil
}

// NamespaceGet is Namespace.Get returning the value.
func NamespaceGet[T any](ns *Namespace, name string) (T, error) {
	var v T
	err := ns.Get(name, &v)
	return v, err
}
