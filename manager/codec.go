package manager

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"math"
	"reflect"
)

// Values cross the wire as opaque byte strings; the server stores and
// returns them without decoding (it need not know the types, and a client
// may be another program). Two encodings, chosen by the proxy's static type:
//
//   - Scalars — bool, every int, uint and float kind, string, []byte — use
//     the canonical form below: a tag byte (the reflect.Kind) and the value.
//     They cost no gob machinery, and the server can do arithmetic on ints
//     and floats (Value.Add).
//   - Everything else is tagGob followed by one self-contained gob stream of
//     struct{V T}: type information travels with each value, so any process
//     that knows a compatible type decodes it.
//
// Keys (Dict, the Namespace's names) must compare equal on the server
// exactly when they are equal in Go, so they use the canonical form for
// every comparable type it covers: scalars, arrays and structs of them
// (exported fields only), and interfaces holding a scalar. Gob cannot serve
// there: it numbers types per process, so equal values may encode unequal.
//
// Canonical form: tag = reflect.Kind, then
//
//	Bool                 one byte, 0 or 1
//	Int, Int8..Int64     varint
//	Uint..Uintptr        uvarint
//	Float32, Float64     8 bytes, big-endian float64 bits (keys: -0 becomes +0)
//	String, []byte       uvarint length, bytes
//	Array                uvarint length, elements
//	Struct               uvarint field count, fields
//	Interface            nil: tag Invalid (0); otherwise the held value
const tagGob = 0x80

// A codec encodes and decodes values of one type T.
type codec[T any] struct {
	canon bool // T is a scalar: canonical form, else gob
}

func codecFor[T any]() codec[T] {
	return codec[T]{canon: isScalar(reflect.TypeFor[T]())}
}

var (
	gobEncoderType    = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshalType = reflect.TypeFor[encoding.BinaryMarshaler]()
)

// isScalar reports whether t takes the canonical form as a value. A type
// with its own gob or binary encoding keeps it.
func isScalar(t reflect.Type) bool {
	if t == nil || t.Implements(gobEncoderType) || t.Implements(binaryMarshalType) ||
		reflect.PointerTo(t).Implements(gobEncoderType) || reflect.PointerTo(t).Implements(binaryMarshalType) {
		return false
	}
	if t.Kind() == reflect.Slice {
		return t.Elem().Kind() == reflect.Uint8
	}
	return scalarKind(t.Kind())
}

func scalarKind(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	}
	return false
}

func (c codec[T]) encode(v T) ([]byte, error) { return c.appendTo(nil, v) }

// appendTo appends v's encoding to dst. A fixed-size scalar takes no
// reflection and allocates nothing beyond dst's growth.
func (c codec[T]) appendTo(dst []byte, v T) ([]byte, error) {
	if c.canon {
		if out, ok := appendScalar(dst, &v); ok {
			return out, nil
		}
		return appendCanonValue(dst, v, false)
	}
	b, err := gobValue(v)
	return append(dst, b...), err
}

func (c codec[T]) decode(b []byte) (T, error) {
	var v T
	if c.canon {
		if ok, err := decodeScalar(b, &v); ok {
			return v, err
		}
		return decodeCanonValue[T](b)
	}
	if len(b) == 0 || b[0] != tagGob {
		return v, fmt.Errorf("value is not gob-encoded (tag %d) but %T wants gob: %w", firstByte(b), v, ErrType)
	}
	var box struct{ V T }
	if err := gob.NewDecoder(bytes.NewReader(b[1:])).Decode(&box); err != nil {
		return v, fmt.Errorf("decoding %T: %v: %w", v, err, ErrType)
	}
	return box.V, nil
}

// appendCanonValue appends v by reflection (a copy of its own: taking an
// address for reflect moves the variable to the heap, and the fast paths'
// callers must not pay for that).
func appendCanonValue[T any](dst []byte, v T, key bool) ([]byte, error) {
	return appendCanon(dst, reflect.ValueOf(&v).Elem(), key)
}

// decodeCanonValue decodes a canonical value by reflection (its own
// variable: taking v's address for reflect moves it to the heap).
func decodeCanonValue[T any](b []byte) (T, error) {
	var v T
	rest, err := decodeCanon(b, reflect.ValueOf(&v).Elem())
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d trailing bytes: %w", len(rest), ErrType)
	}
	return v, err
}

func (c codec[T]) encodeAll(vs []T) ([][]byte, error) {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		b, err := c.encode(v)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (c codec[T]) decodeAll(bs [][]byte) ([]T, error) {
	out := make([]T, len(bs))
	for i, b := range bs {
		v, err := c.decode(b)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// gobValue encodes v as a value of the gob form. The value sits in a struct
// field: Go 1.26's gob crashes on a pointer to a pointer whose type has
// GobEncode, and a bare interface could not decode into its own type.
func gobValue[T any](v T) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil { // gob bugs must cost a call, not the process
			err = fmt.Errorf("encoding %T: panic in gob: %v: %w", v, p, ErrType)
		}
	}()
	var buf bytes.Buffer
	buf.WriteByte(tagGob)
	if err := gob.NewEncoder(&buf).Encode(struct{ V T }{v}); err != nil {
		return nil, fmt.Errorf("encoding %T: %v: %w", v, err, ErrType)
	}
	return buf.Bytes(), nil
}

// A keyCodec encodes keys of type K canonically.
type keyCodec[K comparable] struct{}

func (c keyCodec[K]) encode(k K) ([]byte, error) { return c.appendTo(nil, k) }

// appendTo appends k's canonical form to dst; common keys skip reflection.
func (keyCodec[K]) appendTo(dst []byte, k K) ([]byte, error) {
	switch p := any(&k).(type) {
	case *string:
		return append(binary.AppendUvarint(append(dst, byte(reflect.String)), uint64(len(*p))), *p...), nil
	case *int:
		return binary.AppendVarint(append(dst, byte(reflect.Int)), int64(*p)), nil
	}
	return appendCanonValue(dst, k, true)
}

func (keyCodec[K]) decode(b []byte) (K, error) {
	var k K
	rest, err := decodeCanon(b, reflect.ValueOf(&k).Elem())
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("key with %d trailing bytes: %w", len(rest), ErrType)
	}
	return k, err
}

// appendCanon appends v in canonical form. key: v is a key (-0 is 0, and
// []byte is refused, since slices are not comparable anyway).
func appendCanon(dst []byte, v reflect.Value, key bool) ([]byte, error) {
	k := v.Kind()
	switch k {
	case reflect.Bool:
		b := byte(0)
		if v.Bool() {
			b = 1
		}
		return append(dst, byte(k), b), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(append(dst, byte(k)), v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(append(dst, byte(k)), v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if key && f == 0 {
			f = 0 // -0 == +0 in Go: one key
		}
		return binary.BigEndian.AppendUint64(append(dst, byte(k)), math.Float64bits(f)), nil
	case reflect.String:
		s := v.String()
		return append(binary.AppendUvarint(append(dst, byte(k)), uint64(len(s))), s...), nil
	case reflect.Slice:
		if key || v.Type().Elem().Kind() != reflect.Uint8 {
			break
		}
		b := v.Bytes()
		return append(binary.AppendUvarint(append(dst, byte(k)), uint64(len(b))), b...), nil
	case reflect.Array:
		dst = binary.AppendUvarint(append(dst, byte(k)), uint64(v.Len()))
		for i := range v.Len() {
			var err error
			if dst, err = appendCanon(dst, v.Index(i), key); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case reflect.Struct:
		t := v.Type()
		dst = binary.AppendUvarint(append(dst, byte(k)), uint64(t.NumField()))
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				return nil, fmt.Errorf("key type %v: unexported field %s: %w", t, t.Field(i).Name, ErrType)
			}
			var err error
			if dst, err = appendCanon(dst, v.Field(i), key); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case reflect.Interface:
		if v.IsNil() {
			return append(dst, byte(reflect.Invalid)), nil
		}
		e := v.Elem()
		if !scalarKind(e.Kind()) {
			return nil, fmt.Errorf("key holds a %v: an interface key must hold a bool, number or string: %w", e.Type(), ErrType)
		}
		return appendCanon(dst, e, key)
	}
	return nil, fmt.Errorf("type %v cannot be a key or a canonical value: %w", v.Type(), ErrType)
}

// scalarTypes are the types an interface receives for each tag.
var scalarTypes = map[reflect.Kind]reflect.Type{
	reflect.Bool: reflect.TypeFor[bool](), reflect.Int: reflect.TypeFor[int](),
	reflect.Int8: reflect.TypeFor[int8](), reflect.Int16: reflect.TypeFor[int16](),
	reflect.Int32: reflect.TypeFor[int32](), reflect.Int64: reflect.TypeFor[int64](),
	reflect.Uint: reflect.TypeFor[uint](), reflect.Uint8: reflect.TypeFor[uint8](),
	reflect.Uint16: reflect.TypeFor[uint16](), reflect.Uint32: reflect.TypeFor[uint32](),
	reflect.Uint64: reflect.TypeFor[uint64](), reflect.Uintptr: reflect.TypeFor[uintptr](),
	reflect.Float32: reflect.TypeFor[float32](), reflect.Float64: reflect.TypeFor[float64](),
	reflect.String: reflect.TypeFor[string](),
}

func family(k reflect.Kind) int {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return 1
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return 2
	case reflect.Float32, reflect.Float64:
		return 3
	}
	return 0
}

// decodeCanon decodes one canonical value from b into v (settable) and
// returns the rest of b. The bytes come from another process: every length
// is checked against what is there, a number must fit v's width, and
// nothing panics. Ints of different widths (and floats) interconvert when
// the value fits, as gob allows.
func decodeCanon(b []byte, v reflect.Value) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty canonical value for %v: %w", v.Type(), ErrType)
	}
	tag, b := reflect.Kind(b[0]), b[1:]
	want := v.Kind()
	if want == reflect.Interface {
		if tag == reflect.Invalid {
			v.SetZero()
			return b, nil
		}
		t, ok := scalarTypes[tag]
		if !ok || !t.AssignableTo(v.Type()) {
			return nil, fmt.Errorf("tag %v cannot fill %v: %w", tag, v.Type(), ErrType)
		}
		e := reflect.New(t).Elem()
		rest, err := decodeCanon(append([]byte{byte(tag)}, b...), e)
		if err != nil {
			return nil, err
		}
		v.Set(e)
		return rest, nil
	}
	if tag != want && (family(tag) == 0 || family(tag) != family(want)) {
		return nil, fmt.Errorf("value of kind %v cannot fill %v: %w", tag, v.Type(), ErrType)
	}
	switch want {
	case reflect.Bool:
		if len(b) < 1 || b[0] > 1 {
			return nil, fmt.Errorf("bad bool: %w", ErrType)
		}
		v.SetBool(b[0] == 1)
		return b[1:], nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(b)
		if n <= 0 || v.OverflowInt(x) {
			return nil, fmt.Errorf("bad or overflowing %v: %w", v.Type(), ErrType)
		}
		v.SetInt(x)
		return b[n:], nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x, n := binary.Uvarint(b)
		if n <= 0 || v.OverflowUint(x) {
			return nil, fmt.Errorf("bad or overflowing %v: %w", v.Type(), ErrType)
		}
		v.SetUint(x)
		return b[n:], nil
	case reflect.Float32, reflect.Float64:
		if len(b) < 8 {
			return nil, fmt.Errorf("short float: %w", ErrType)
		}
		v.SetFloat(math.Float64frombits(binary.BigEndian.Uint64(b)))
		return b[8:], nil
	case reflect.String, reflect.Slice:
		s, rest, err := canonBytes(b)
		if err != nil {
			return nil, err
		}
		if want == reflect.String {
			v.SetString(string(s))
		} else if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes(bytes.Clone(s))
		} else {
			return nil, fmt.Errorf("%v is not canonical: %w", v.Type(), ErrType)
		}
		return rest, nil
	case reflect.Array:
		n, m := binary.Uvarint(b)
		if m <= 0 || n != uint64(v.Len()) {
			return nil, fmt.Errorf("array length does not match %v: %w", v.Type(), ErrType)
		}
		b = b[m:]
		for i := range v.Len() {
			var err error
			if b, err = decodeCanon(b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	case reflect.Struct:
		n, m := binary.Uvarint(b)
		if m <= 0 || n != uint64(v.NumField()) {
			return nil, fmt.Errorf("field count does not match %v: %w", v.Type(), ErrType)
		}
		b = b[m:]
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				return nil, fmt.Errorf("%v has unexported fields: %w", v.Type(), ErrType)
			}
			var err error
			if b, err = decodeCanon(b, v.Field(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("%v is not canonical: %w", v.Type(), ErrType)
}

func canonBytes(b []byte) (s, rest []byte, err error) {
	n, m := binary.Uvarint(b)
	if m <= 0 || n > uint64(len(b)-m) {
		return nil, nil, fmt.Errorf("bad length: %w", ErrType)
	}
	return b[m : m+int(n)], b[m+int(n):], nil
}
