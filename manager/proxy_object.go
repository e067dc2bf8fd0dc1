package manager

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"reflect"
)

// A Proxy is a proxy for a value of a registered type (see Register): its
// exported methods are called by name. Safe for concurrent use; crosses to
// a child process as an argument.
type Proxy struct{ r *ref }

// NewObject creates a value of the registered type typeName on the server
// — ctor(args...) runs there — and returns a proxy for it (Python's
// manager.<typeid>(*args)). Each argument is gob-encoded on its own.
func NewObject(m *Manager, typeName string, args []any, opts ...ObjectOption) (*Proxy, error) {
	if _, builtin := builtins[typeName]; builtin {
		return nil, fmt.Errorf("manager: NewObject(%q): a built-in type has its own constructor: %w", typeName, ErrInvalid)
	}
	bs, err := encodeArgs(args)
	if err != nil {
		return nil, fmt.Errorf("manager: NewObject(%q): %w", typeName, err)
	}
	r, err := m.create(typeName, bs, opts)
	if err != nil {
		return nil, err
	}
	return &Proxy{r}, nil
}

// Type returns the registered type's name.
func (p *Proxy) Type() string { return p.r.typ }

// Call calls method with args and returns its results, to decode with
// Results.Decode. The method's context (if it takes one) ends when ctx
// does. Its error result comes back as a *RemoteError.
func (p *Proxy) Call(ctx context.Context, method string, args ...any) (Results, error) {
	bs, err := encodeArgs(args)
	if err != nil {
		return Results{}, fmt.Errorf("manager: %v: %w", p.r.site(method), err)
	}
	res, err := p.r.call(ctx, method, bs...)
	if err != nil {
		return Results{}, err
	}
	return Results{at: p.r.site(method), res: res}, nil
}

// Call calls a method that returns one result (and maybe an error) and
// decodes it as an R.
func Call[R any](ctx context.Context, p *Proxy, method string, args ...any) (R, error) {
	var r R
	res, err := p.Call(ctx, method, args...)
	if err != nil {
		return r, err
	}
	err = res.Decode(&r)
	return r, err
}

// Results are a method's results as they came back.
type Results struct {
	at  site
	res [][]byte
}

// Len returns the number of results (not counting an error result).
func (r Results) Len() int { return len(r.res) }

// Decode decodes the results, in order, into outs (pointers; fewer outs
// than results skip the rest, nil skips one).
func (r Results) Decode(outs ...any) error {
	if len(outs) > len(r.res) {
		return fmt.Errorf("manager: %v: %d results, %d wanted: %w", r.at, len(r.res), len(outs), ErrBadArgs)
	}
	for i, out := range outs {
		if out == nil {
			continue
		}
		if err := gob.NewDecoder(bytes.NewReader(r.res[i])).Decode(out); err != nil {
			return fmt.Errorf("manager: %v: result %d into %T: %v: %w", r.at, i, out, err, ErrType)
		}
	}
	return nil
}

func encodeArgs(args []any) ([][]byte, error) {
	bs := make([][]byte, len(args))
	for i, a := range args {
		if a == nil {
			return nil, fmt.Errorf("argument %d is nil: %w", i, ErrInvalid)
		}
		b, err := gobArg(reflect.ValueOf(a))
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		bs[i] = b
	}
	return bs, nil
}

// Detach releases this proxy's reference.
func (p *Proxy) Detach() error { return p.r.close() }

// GobEncode packs the proxy to cross to another process.
func (p *Proxy) GobEncode() ([]byte, error) { return p.r.encode() }

// GobDecode attaches to the object a GobEncode packed.
func (p *Proxy) GobDecode(b []byte) error {
	r, err := decodeRef(b, "", func(t string) bool { _, builtin := builtins[t]; return !builtin })
	if err != nil {
		return err
	}
	p.r = r
	return nil
}
