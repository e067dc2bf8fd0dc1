package manager

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Registered types: Python's BaseManager.register(typeid, callable).
//
// Register(name, ctor) makes NewObject(m, name, args...) call ctor(args...)
// in the server and serve the value it returns. ctor is a function
//
//	func(A1, ..., An) T    or    func(A1, ..., An) (T, error)
//
// whose parameters are gob-decodable concrete types (no interfaces, no
// variadic list). Returning the same value from every call shares one Go
// value between all proxies (Python's "callable=lambda: queue" idiom).
//
// A proxy may call every exported method of T's method set (a pointer T
// has its pointer methods too), by name, with these rules:
//
//   - A first parameter of type context.Context receives the call's
//     context, which ends when the client cancels, its connection ends or
//     the server shuts down: a blocking method should honour it.
//   - The other parameters, like the constructor's, are concrete
//     gob-decodable types; each argument travels as its own gob value, so
//     an int may fill an int64 and a struct a compatible struct, as gob
//     allows. A variadic method cannot be called.
//   - Results are gob-encoded one by one; a last result of type error
//     becomes the call's error (a *RemoteError wrapping ErrRemote with its
//     text; wrap one of this package's sentinels to keep it errors.Is-able
//     across the wire). A nil pointer result cannot be encoded: return a
//     zero value instead.
//   - Calls arrive concurrently, from any number of clients: T must be
//     safe for concurrent use. A panic in a method fails that call only.
//
// Register at package level, like procs.Register (it returns name, so it
// can sit in a var declaration): a server started by Start is this binary run again, and
// must know the type before a client asks for it. Register panics on a bad
// ctor, a built-in name or a name registered twice: programming errors.
func Register(name string, ctor any) string {
	if name == "" {
		panic("manager: Register with an empty name")
	}
	if _, ok := builtins[name]; ok {
		panic(fmt.Sprintf("manager: Register(%q): the name of a built-in type", name))
	}
	rt, err := newRegType(name, ctor)
	if err != nil {
		panic("manager: Register(" + name + "): " + err.Error())
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.types[name]; dup {
		panic(fmt.Sprintf("manager: type %q registered twice", name))
	}
	registry.types[name] = rt
	return name
}

var registry = struct {
	sync.Mutex
	types map[string]*regType
}{types: map[string]*regType{}}

func lookupType(name string) (*regType, bool) {
	registry.Lock()
	defer registry.Unlock()
	rt, ok := registry.types[name]
	return rt, ok
}

func registeredTypes() []string {
	registry.Lock()
	defer registry.Unlock()
	names := make([]string, 0, len(registry.types))
	for n := range registry.types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var (
	errorType   = reflect.TypeFor[error]()
	contextType = reflect.TypeFor[context.Context]()
)

type regType struct {
	name   string
	ctor   reflect.Value
	in     []reflect.Type
	errOut bool
}

func newRegType(name string, ctor any) (*regType, error) {
	v := reflect.ValueOf(ctor)
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("ctor is a %T, not a function", ctor)
	}
	t := v.Type()
	if t.IsVariadic() {
		return nil, fmt.Errorf("ctor is variadic")
	}
	rt := &regType{name: name, ctor: v}
	for i := range t.NumIn() {
		if t.In(i).Kind() == reflect.Interface {
			return nil, fmt.Errorf("parameter %d is an interface (%v)", i, t.In(i))
		}
		rt.in = append(rt.in, t.In(i))
	}
	switch {
	case t.NumOut() == 1 && t.Out(0) != errorType:
	case t.NumOut() == 2 && t.Out(1) == errorType && t.Out(0) != errorType:
		rt.errOut = true
	default:
		return nil, fmt.Errorf("ctor must return T or (T, error), not %v", t)
	}
	return rt, nil
}

func (rt *regType) construct(args [][]byte) (object, error) {
	in, err := decodeArgs(args, rt.in)
	if err != nil {
		return nil, fmt.Errorf("constructing %s: %w", rt.name, err)
	}
	out := rt.ctor.Call(in)
	if rt.errOut && !out[1].IsNil() {
		return nil, fmt.Errorf("constructing %s: %w", rt.name, out[1].Interface().(error))
	}
	v := out[0]
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return nil, fmt.Errorf("constructing %s: nil value: %w", rt.name, ErrInvalid)
	}
	return &regObject{v: v, methods: methodsOf(v.Type())}, nil
}

// A regObject serves a registered type's value by reflection.
type regObject struct {
	v       reflect.Value
	methods map[string]*regMethod
}

type regMethod struct {
	fn     reflect.Value // the method expression: receiver first
	ctx    bool          // takes the call's context first
	in     []reflect.Type
	errOut bool
}

var methodCache sync.Map // reflect.Type -> map[string]*regMethod

// methodsOf lists the remotely callable methods of t, once per type.
func methodsOf(t reflect.Type) map[string]*regMethod {
	if m, ok := methodCache.Load(t); ok {
		return m.(map[string]*regMethod)
	}
	ms := map[string]*regMethod{}
methods:
	for i := range t.NumMethod() {
		m := t.Method(i)
		mt := m.Type // receiver is In(0)
		if !m.IsExported() || mt.IsVariadic() {
			continue
		}
		rm := &regMethod{fn: m.Func}
		first := 1
		if mt.NumIn() > 1 && mt.In(1) == contextType {
			rm.ctx, first = true, 2
		}
		for j := first; j < mt.NumIn(); j++ {
			if mt.In(j).Kind() == reflect.Interface {
				continue methods
			}
			rm.in = append(rm.in, mt.In(j))
		}
		rm.errOut = mt.NumOut() > 0 && mt.Out(mt.NumOut()-1) == errorType
		ms[m.Name] = rm
	}
	actual, _ := methodCache.LoadOrStore(t, ms)
	return actual.(map[string]*regMethod)
}

func (o *regObject) call(ctx context.Context, _ caller, method string, args [][]byte) ([][]byte, error) {
	m, ok := o.methods[method]
	if !ok {
		return nil, fmt.Errorf("%v has no callable method %q: %w", o.v.Type(), method, ErrNoMethod)
	}
	in, err := decodeArgs(args, m.in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	pre := []reflect.Value{o.v}
	if m.ctx {
		pre = append(pre, reflect.ValueOf(&ctx).Elem())
	}
	out := m.fn.Call(append(pre, in...))
	if m.errOut {
		if e := out[len(out)-1]; !e.IsNil() {
			// Its text travels; its code too if it wraps one of our sentinels.
			return nil, e.Interface().(error)
		}
		out = out[:len(out)-1]
	}
	res := make([][]byte, len(out))
	for i, v := range out {
		if res[i], err = gobArg(v); err != nil {
			return nil, fmt.Errorf("%s: result %d: %w", method, i, err)
		}
	}
	return res, nil
}

// gobArg encodes one argument or result as a gob value of its own.
func gobArg(v reflect.Value) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("encoding %v: panic in gob: %v: %w", v.Type(), p, ErrType)
		}
	}()
	if v.Kind() == reflect.Interface { // a result declared as an interface: send what it holds
		if v.IsNil() {
			return nil, fmt.Errorf("nil %v cannot be encoded: %w", v.Type(), ErrType)
		}
		v = v.Elem()
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).EncodeValue(v); err != nil {
		return nil, fmt.Errorf("encoding %v: %v: %w", v.Type(), err, ErrType)
	}
	return buf.Bytes(), nil
}

func decodeArgs(args [][]byte, types []reflect.Type) ([]reflect.Value, error) {
	if len(args) != len(types) {
		return nil, fmt.Errorf("%d arguments, want %d: %w", len(args), len(types), ErrBadArgs)
	}
	vs := make([]reflect.Value, len(types))
	for i, t := range types {
		p := reflect.New(t)
		if err := gob.NewDecoder(bytes.NewReader(args[i])).DecodeValue(p); err != nil {
			return nil, fmt.Errorf("argument %d (%v): %v: %w", i, t, err, ErrBadArgs)
		}
		vs[i] = p.Elem()
	}
	return vs, nil
}
