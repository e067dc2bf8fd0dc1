package layout

import (
	"errors"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type point struct {
	X, Y int32
	Tag  [4]byte
}

type order struct {
	ID    uint64
	Items []int
}

func TestFixedSizeAcceptsPlainData(t *testing.T) {
	for _, v := range []any{int64(0), 3.5, point{}, [8]point{}, struct{ A [2][3]uint16 }{}} {
		assert.NoError(t, FixedSize(reflect.TypeOf(v)), "%T", v)
	}
}

func TestFixedSizeNamesTheOffendingField(t *testing.T) {
	err := FixedSize(reflect.TypeOf(order{}))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrNotFixedSize))
	assert.Contains(t, err.Error(), "layout.order.Items")
	assert.Contains(t, err.Error(), "slice")
	for _, v := range []any{"s", &point{}, map[int]int{}, make(chan int), func() {}, struct{ E error }{}} {
		assert.Error(t, FixedSize(reflect.TypeOf(v)), "%T", v)
	}
	assert.Error(t, FixedSize(nil))
}

func TestFingerprintSeparatesLayouts(t *testing.T) {
	type a struct{ X, Y int32 }
	type b struct{ X, Y int32 }
	type c struct{ Y, X int32 }
	type d struct{ X, Y int64 }
	assert.Equal(t, Fingerprint(reflect.TypeOf(a{})), Fingerprint(reflect.TypeOf(b{})))
	assert.NotEqual(t, Fingerprint(reflect.TypeOf(a{})), Fingerprint(reflect.TypeOf(c{})))
	assert.NotEqual(t, Fingerprint(reflect.TypeOf(a{})), Fingerprint(reflect.TypeOf(d{})))
	assert.NotEqual(t, Fingerprint(reflect.TypeOf(int32(0))), Fingerprint(reflect.TypeOf(uint32(0))))
	assert.NotEqual(t, Fingerprint(reflect.TypeOf([2]int8{})), Fingerprint(reflect.TypeOf([1]int16{})))
}
