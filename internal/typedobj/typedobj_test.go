package typedobj_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

// The bytes value and array objects are made of, spelled out word by word
// from their layout comments: readers in other languages are written
// against them, so sharing code between the two packages must not move a
// byte. A change here is a new layout version (shm/kind.go and the
// header's own version).
func TestHeadersKeepTheirBytes(t *testing.T) {
	seg := testutil.Anonymous(t, 1<<16)
	type wide [3]uint64
	_, err := value.New[int64](seg, "v", -2)
	require.NoError(t, err)
	_, err = value.NewRaw(seg, "rv", wide{1, 2, 3})
	require.NoError(t, err)
	_, err = array.FromSlice(seg, "a", []int32{1, 2, 3, 4, 5})
	require.NoError(t, err)
	_, err = array.NewRaw[uint16](seg, "ra", 3)
	require.NoError(t, err)

	u32 := func(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	u64 := func(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
	for _, tc := range []struct {
		name    string
		size    uint64
		header  []uint32 // magic, version, flags, element size, then the kind's words (below)
		check   func(t *testing.T, b []byte)
		version uint16
	}{
		{"v", 136, []uint32{0x4c56504d, 2, 1, 8}, func(t *testing.T, b []byte) {
			assert.Equal(t, []uint32{128, 0, 1}, []uint32{u32(b, 16), u32(b, 20), u32(b, 24)}, "data offset, stride, buffers")
			assert.Equal(t, uint64(0), u64(b, 64), "an unlocked mutex is a zero word")
			assert.Equal(t, int64(-2), int64(u64(b, 128)))
		}, shm.KindValue.Version()},
		{"rv", 192, []uint32{0x4c56504d, 2, 0, 24}, func(t *testing.T, b []byte) {
			assert.Equal(t, []uint32{64, 64, 2}, []uint32{u32(b, 16), u32(b, 20), u32(b, 24)}, "data offset, stride, buffers")
			assert.Equal(t, []uint64{1, 2, 3}, []uint64{u64(b, 64), u64(b, 72), u64(b, 80)}, "buffer 0 holds the initial value")
		}, shm.KindValue.Version()},
		{"a", 148, []uint32{0x5241504d, 1, 1, 4}, func(t *testing.T, b []byte) {
			assert.Equal(t, uint64(5), u64(b, 16), "length")
			assert.Equal(t, uint32(128), u32(b, 24), "data offset")
			assert.Equal(t, []uint32{1, 2, 3, 4, 5}, []uint32{u32(b, 128), u32(b, 132), u32(b, 136), u32(b, 140), u32(b, 144)})
		}, shm.KindArray.Version()},
		{"ra", 72, []uint32{0x5241504d, 1, 0, 2}, func(t *testing.T, b []byte) {
			assert.Equal(t, uint64(3), u64(b, 16), "length")
			assert.Equal(t, uint32(64), u32(b, 24), "data offset")
		}, shm.KindArray.Version()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := seg.Lookup(tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.version, obj.Version)
			b := obj.Bytes()
			require.GreaterOrEqual(t, uint64(len(b)), tc.size)
			assert.Equal(t, tc.header, []uint32{u32(b, 0), u32(b, 4), u32(b, 8), u32(b, 12)})
			tc.check(t, b)
		})
	}
}
