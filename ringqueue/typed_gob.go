package ringqueue

import (
	"bytes"
	"encoding"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"reflect"
	"runtime/debug"
	"sync"
)

// The gob codec of typed queues (typed.go says why each message is a
// self-contained stream and how encoders and decoders are reused).
//
// A gob stream is a sequence of messages, each (length uint)(type id
// int)(payload): a negative id defines type -id, a positive one carries a
// value of that type. A message of ours is: the definitions its value
// needs, then one value message. A value is encoded through a pointer
// to it, except when T is an interface or a pointer type: then it travels
// boxed in a struct field (gobBox), which lets gob carry interface values
// (with their concrete type's name), nil pointers, and pointers to types
// that implement GobEncoder (encoding a pointer to such a pointer trips a
// gob bug in Go 1.26). The box costs its own type definition in every
// message, so it is used only where it is needed.

// gobBox is what is actually encoded: the value as a struct field.
type gobBox[T any] struct{ V T }

// gobCodec is a typed queue handle's codec. Encoders and decoders are
// pooled: a handle may be used by many goroutines at once.
type gobCodec[T any] struct {
	reuse    bool      // T holds no interface: keep encoders and decoders across messages
	boxed    bool      // T is an interface or pointer type: encode a gobBox
	encoders sync.Pool // *gobEncoder[T]
	decoders sync.Pool // *gobDecoder[T]
}

// gobEncoder is one encoder's state. With reuse, defs holds every type
// definition message enc has written, in order: enc never writes them
// again, so they are copied in front of each later value message.
type gobEncoder[T any] struct {
	buf  bytes.Buffer
	enc  *gob.Encoder // writes to buf
	defs []byte
	box  gobBox[T]
	val  T // what is encoded: a copy, so that the caller's value never escapes
}

// gobPoolMax bounds the buffer a pooled encoder keeps: one huge message
// does not pin its buffer for the handle's lifetime.
const gobPoolMax = 1 << 20

// encode encodes *v as one self-contained message. The message lives in
// the returned encoder's buffer until done(e).
func (c *gobCodec[T]) encode(v *T) (*gobEncoder[T], []byte, error) {
	e, _ := c.encoders.Get().(*gobEncoder[T])
	if e == nil {
		e = new(gobEncoder[T])
	}
	if e.enc == nil || !c.reuse {
		e.enc = gob.NewEncoder(&e.buf)
		e.defs = e.defs[:0]
	}
	e.buf.Reset()
	e.buf.Write(e.defs)
	mark := e.buf.Len()
	var err error
	if c.boxed {
		e.box.V = *v
		err = e.enc.Encode(&e.box)
		var zero T
		e.box.V = zero // hold no reference to the caller's data
	} else {
		e.val = *v
		err = e.enc.Encode(&e.val)
		var zero T
		e.val = zero
	}
	if err != nil {
		return nil, nil, err // e is dropped: its encoder's state is unknown
	}
	if c.reuse {
		out := e.buf.Bytes()[mark:]
		n, ferr := gobDefsLen(out)
		if ferr != nil {
			return nil, nil, fmt.Errorf("unexpected gob output: %w", ferr)
		}
		e.defs = append(e.defs, out[:n]...)
	}
	return e, e.buf.Bytes(), nil
}

// done returns e to the pool once its message has been copied.
func (c *gobCodec[T]) done(e *gobEncoder[T]) {
	if e.buf.Cap() <= gobPoolMax {
		c.encoders.Put(e)
	}
}

// encodeAll encodes every value of vs, each as its own message, into one
// arena.
func (c *gobCodec[T]) encodeAll(vs []T) ([][]byte, error) {
	ends := make([]int, len(vs))
	var arena []byte
	for i := range vs {
		e, m, err := c.encode(&vs[i])
		if err != nil {
			return nil, err
		}
		arena = append(arena, m...)
		ends[i] = len(arena)
		c.done(e)
	}
	msgs := make([][]byte, len(vs))
	start := 0
	for i, end := range ends {
		msgs[i] = arena[start:end:end]
		start = end
	}
	return msgs, nil
}

// gobDecoder is one consumer's decoding state: with reuse, a few decoders
// that have read a set of type definitions, keyed by those definitions'
// bytes. Definitions are byte-identical for every message encoded in one
// process (type ids are per process), so one slot per producing process
// is enough; a fifth process's messages evict the oldest slot.
type gobDecoder[T any] struct {
	slots [4]gobDecSlot
	next  int
	box   gobBox[T]
	val   T // what is decoded into: the caller's *v is only assigned, so it never escapes
}

type gobDecSlot struct {
	defs []byte
	r    bytes.Reader
	dec  *gob.Decoder // reads r; nil if the slot is empty or was spoiled by an error
}

// decode decodes one message into *v. msg may be the queue's slot itself:
// gob copies what it keeps.
//
// A panic while decoding (a GobDecode or UnmarshalBinary method of T, fed
// bytes another process wrote) becomes a *DecodePanicError: the message
// is consumed like any other that cannot be decoded, and the caller's Get
// releases the slot and returns. Shared memory is input, and bad input
// must not take a consumer down, nor leave a slot claimed by a live
// process, which nobody reclaims: the ring would wedge. The decoder that
// panicked may be mid-stream, so it is dropped rather than reused.
func (c *gobCodec[T]) decode(v *T, msg []byte) (err error) {
	d, _ := c.decoders.Get().(*gobDecoder[T])
	if d == nil {
		d = new(gobDecoder[T])
	}
	defer func() {
		if r := recover(); r != nil {
			var zero T
			*v = zero
			err = &DecodePanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	err = d.decode(c.reuse, c.boxed, v, msg)
	c.decoders.Put(d)
	return err
}

// A DecodePanicError reports a panic while decoding a gob queue's
// message, with the panic's value and the stack where it happened. It is
// returned wrapped with ErrDecode; the message is consumed.
type DecodePanicError struct {
	Value any
	Stack []byte
}

func (e *DecodePanicError) Error() string { return fmt.Sprintf("decoding panicked: %v", e.Value) }

// decode decodes msg into *v (zero if decoding fails). Gob merges into
// what is there: d.box and d.val are zero before every decode.
func (d *gobDecoder[T]) decode(reuse, boxed bool, v *T, msg []byte) error {
	// Framing first: shared memory is input, and gob would allocate
	// whatever a corrupt length asks before finding the input short.
	n, err := gobDefsLen(msg)
	if err != nil {
		return err
	}
	var s *gobDecSlot
	if reuse {
		defs := msg[:n]
		for i := range d.slots {
			if d.slots[i].dec != nil && bytes.Equal(d.slots[i].defs, defs) {
				s = &d.slots[i]
				s.r.Reset(msg[n:]) // it has read these definitions already
				break
			}
		}
		if s == nil {
			s = &d.slots[d.next]
			d.next = (d.next + 1) % len(d.slots)
			s.defs = append(s.defs[:0], defs...)
			s.dec = nil // evicted: a fresh decoder reads the whole message
		}
	} else {
		s = &d.slots[0]
	}
	if s.dec == nil || !reuse {
		s.r.Reset(msg)
		s.dec = gob.NewDecoder(&s.r)
	}
	var zero T
	if boxed {
		err = s.dec.Decode(&d.box)
		*v, d.box.V = d.box.V, zero
	} else {
		err = s.dec.Decode(&d.val)
		*v, d.val = d.val, zero
	}
	if err == nil && s.r.Len() != 0 {
		err = fmt.Errorf("%d bytes left after the value", s.r.Len())
	}
	s.r.Reset(nil) // keep no reference to the slot
	if err != nil {
		s.dec = nil // its state is unknown now
		*v = zero
		return err
	}
	return nil
}

var errGobFraming = errors.New("malformed gob message")

// gobDefsLen returns the length of b's leading type definition messages,
// checking that each message's length fits in b and that a value message
// follows them.
func gobDefsLen(b []byte) (int, error) {
	off := 0
	for off < len(b) {
		n, k, ok := gobUint(b[off:])
		if !ok || n == 0 || n > uint64(len(b)-off-k) {
			return 0, errGobFraming
		}
		id, _, ok := gobUint(b[off+k : off+k+int(n)])
		if !ok {
			return 0, errGobFraming
		}
		if id&1 == 0 { // a signed int's low bit is its sign: a value message
			return off, nil
		}
		off += k + int(n)
	}
	return 0, fmt.Errorf("%w: no value", errGobFraming)
}

// gobUint decodes a gob unsigned integer: a byte below 0x80 is itself,
// otherwise the negated byte count followed by that many big-endian bytes.
func gobUint(b []byte) (uint64, int, bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1, true
	}
	n := -int(int8(b[0]))
	if n > 8 || len(b) < 1+n {
		return 0, 0, false
	}
	var x uint64
	for _, c := range b[1 : 1+n] {
		x = x<<8 | uint64(c)
	}
	return x, 1 + n, true
}

// gobCheck round-trips T's zero value, so that a T gob cannot carry is
// refused at construction rather than at the first Put.
func gobCheck[T any](boxed bool) error {
	var v T
	c := &gobCodec[T]{boxed: boxed}
	e, msg, err := c.encode(&v)
	if err != nil {
		return err
	}
	defer c.done(e)
	return new(gobDecoder[T]).decode(false, boxed, &v, msg)
}

// gobBoxed reports whether values of t travel in a gobBox.
func gobBoxed(t reflect.Type) bool {
	return t.Kind() == reflect.Interface || t.Kind() == reflect.Pointer
}

var (
	gobEncoderType       = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshalerType  = reflect.TypeFor[encoding.BinaryMarshaler]()
	textMarshalerType    = reflect.TypeFor[encoding.TextMarshaler]()
	fingerprintSeparator = []byte{0}
)

// gobMarshals reports whether gob sends t through its own marshaling
// method (GobEncode, MarshalBinary or MarshalText), on t or *t.
func gobMarshals(t reflect.Type) bool {
	for _, m := range []reflect.Type{gobEncoderType, binaryMarshalerType, textMarshalerType} {
		if t.Implements(m) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(m)) {
			return true
		}
	}
	return false
}

// gobFingerprint hashes the shape gob sees in t: kinds, exported field
// names, element types, recursively; pointers are flattened as gob
// flattens them, and a type with its own marshaling is its name. Like
// layout.Fingerprint it leaves struct type names out. It is never 0, so a
// gob queue never matches a plain byte queue's directory entry.
func gobFingerprint(t reflect.Type) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, "gob/1:")
	gobShape(h, t, map[reflect.Type]int{})
	if s := h.Sum64(); s != 0 {
		return s
	}
	return 1
}

func gobShape(w io.Writer, t reflect.Type, seen map[reflect.Type]int) {
	if i, ok := seen[t]; ok {
		fmt.Fprintf(w, "@%d", i) // a recursive type refers back
		return
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Struct, reflect.Slice, reflect.Array, reflect.Map:
		seen[t] = len(seen) // only composite types can recur
	}
	if gobMarshals(t) {
		fmt.Fprintf(w, "marshal(%s)", t)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		gobShape(w, t.Elem(), seen)
	case reflect.Struct:
		_, _ = io.WriteString(w, "struct{")
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Type.Kind() == reflect.Chan || f.Type.Kind() == reflect.Func {
				continue // gob leaves them out
			}
			_, _ = io.WriteString(w, f.Name)
			_, _ = w.Write(fingerprintSeparator)
			gobShape(w, f.Type, seen)
			_, _ = io.WriteString(w, ";")
		}
		_, _ = io.WriteString(w, "}")
	case reflect.Slice:
		_, _ = io.WriteString(w, "[]")
		gobShape(w, t.Elem(), seen)
	case reflect.Array:
		fmt.Fprintf(w, "[%d]", t.Len())
		gobShape(w, t.Elem(), seen)
	case reflect.Map:
		_, _ = io.WriteString(w, "map[")
		gobShape(w, t.Key(), seen)
		_, _ = io.WriteString(w, "]")
		gobShape(w, t.Elem(), seen)
	default:
		_, _ = io.WriteString(w, t.Kind().String())
	}
}

// gobHasInterface reports whether an interface type is reachable in t as
// gob walks it: then values may carry type definitions nested inside
// them, and encoders and decoders are not reused.
func gobHasInterface(t reflect.Type) bool { return gobIface(t, map[reflect.Type]bool{}) }

func gobIface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	if gobMarshals(t) {
		return false // opaque bytes
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return gobIface(t.Elem(), seen)
	case reflect.Map:
		return gobIface(t.Key(), seen) || gobIface(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && gobIface(f.Type, seen) {
				return true
			}
		}
	}
	return false
}
