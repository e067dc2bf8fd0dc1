package manager

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
)

// The canonical form of the common fixed-size scalars without reflection:
// the same bytes appendCanon and decodeCanon make and read (codec.go), on
// the path of every Value and Dict call, where reflection would cost an
// allocation (reflect.ValueOf(&v) sends v to the heap). Other types report
// !ok and take the general path.

// appendScalar appends *p in canonical form if its type is one of these.
func appendScalar[T any](dst []byte, p *T) ([]byte, bool) {
	switch v := any(p).(type) {
	case *int:
		return binary.AppendVarint(append(dst, byte(reflect.Int)), int64(*v)), true
	case *int64:
		return binary.AppendVarint(append(dst, byte(reflect.Int64)), *v), true
	case *int32:
		return binary.AppendVarint(append(dst, byte(reflect.Int32)), int64(*v)), true
	case *uint64:
		return binary.AppendUvarint(append(dst, byte(reflect.Uint64)), *v), true
	case *uint32:
		return binary.AppendUvarint(append(dst, byte(reflect.Uint32)), uint64(*v)), true
	case *uint:
		return binary.AppendUvarint(append(dst, byte(reflect.Uint)), uint64(*v)), true
	case *float64:
		return binary.BigEndian.AppendUint64(append(dst, byte(reflect.Float64)), math.Float64bits(*v)), true
	case *bool:
		b := byte(0)
		if *v {
			b = 1
		}
		return append(dst, byte(reflect.Bool), b), true
	}
	return dst, false
}

// decodeScalar decodes b into *p if its type is one of appendScalar's,
// with decodeCanon's rules: a value of another width of the same family
// fills it when it fits, and every byte must be consumed.
func decodeScalar[T any](b []byte, p *T) (ok bool, err error) {
	switch v := any(p).(type) {
	case *int:
		x, err := scalarInt(b, math.MinInt, math.MaxInt)
		*v = int(x)
		return true, err
	case *int64:
		x, err := scalarInt(b, math.MinInt64, math.MaxInt64)
		*v = x
		return true, err
	case *int32:
		x, err := scalarInt(b, math.MinInt32, math.MaxInt32)
		*v = int32(x)
		return true, err
	case *uint64:
		x, err := scalarUint(b, math.MaxUint64)
		*v = x
		return true, err
	case *uint32:
		x, err := scalarUint(b, math.MaxUint32)
		*v = uint32(x)
		return true, err
	case *uint:
		x, err := scalarUint(b, math.MaxUint)
		*v = uint(x)
		return true, err
	case *float64:
		if len(b) != 9 || family(reflect.Kind(b[0])) != 3 {
			return true, scalarErr(b, "float64")
		}
		*v = math.Float64frombits(binary.BigEndian.Uint64(b[1:]))
		return true, nil
	case *bool:
		if len(b) != 2 || reflect.Kind(b[0]) != reflect.Bool || b[1] > 1 {
			return true, scalarErr(b, "bool")
		}
		*v = b[1] == 1
		return true, nil
	}
	return false, nil
}

func scalarInt(b []byte, lo, hi int64) (int64, error) {
	if len(b) < 2 || family(reflect.Kind(b[0])) != 1 {
		return 0, scalarErr(b, "int")
	}
	x, n := binary.Varint(b[1:])
	if n <= 0 || n != len(b)-1 || x < lo || x > hi {
		return 0, scalarErr(b, "int")
	}
	return x, nil
}

func scalarUint(b []byte, hi uint64) (uint64, error) {
	if len(b) < 2 || family(reflect.Kind(b[0])) != 2 {
		return 0, scalarErr(b, "uint")
	}
	x, n := binary.Uvarint(b[1:])
	if n <= 0 || n != len(b)-1 || x > hi {
		return 0, scalarErr(b, "uint")
	}
	return x, nil
}

func scalarErr(b []byte, want string) error {
	return fmt.Errorf("a bad, overflowing or mistyped canonical value (tag %d, %d bytes) for a %s: %w", firstByte(b), len(b), want, ErrType)
}
