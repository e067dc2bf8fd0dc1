package procs

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"sync"
)

// A Func is a function registered to run in a child process. It takes one
// argument and returns a result and an error; both cross the process
// boundary by gob, and shared objects inside them cross as handles.
type Func[A, R any] struct {
	name string
}

// Name returns the name the function was registered under.
func (f *Func[A, R]) Name() string { return f.name }

// runner is what a child needs to call a registered function: bytes in, bytes out.
type runner func(arg []byte) (result []byte, err error)

var funcs = struct {
	sync.Mutex
	byName map[string]runner
}{byName: map[string]runner{}}

// Register records fn under name so that a child process started with the
// returned Func can find it. Call it at package level (a var declaration),
// so that it has run in the child before Main looks the name up. Register
// panics if name is empty or taken: two functions under one name is a
// programming error.
func Register[A, R any](name string, fn func(A) (R, error)) *Func[A, R] {
	if name == "" || fn == nil {
		panic("procs: Register with an empty name or a nil function")
	}
	funcs.Lock()
	defer funcs.Unlock()
	if _, dup := funcs.byName[name]; dup {
		panic(fmt.Sprintf("procs: function %q registered twice", name))
	}
	funcs.byName[name] = func(in []byte) ([]byte, error) {
		var arg box[A]
		if err := gob.NewDecoder(bytes.NewReader(in)).Decode(&arg); err != nil {
			return nil, fmt.Errorf("procs: decoding the argument of %q: %w", name, err)
		}
		res, err := fn(arg.V)
		if err != nil {
			return nil, err
		}
		var out bytes.Buffer
		if err := gob.NewEncoder(&out).Encode(box[R]{res}); err != nil {
			return nil, fmt.Errorf("procs: encoding the result of %q: %w", name, err)
		}
		return out.Bytes(), nil
	}
	// Pool workers run fn on items in their own encoding (raw bytes for
	// fixed-size types, not gob per item): pool_codec.go.
	registerPoolRunner(name, fn)
	return &Func[A, R]{name: name}
}

// box carries a value through gob as a struct field. Encoding a pointer to
// a pointer whose type implements GobEncoder crashes gob in Go 1.26, and a
// bare interface value cannot be decoded into its own type: a field has
// neither problem.
type box[T any] struct{ V T }

func lookupFunc(name string) (runner, bool) {
	funcs.Lock()
	defer funcs.Unlock()
	r, ok := funcs.byName[name]
	return r, ok
}
