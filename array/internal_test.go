package array

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/shm"
)

// A forged header must never let a view run past the object.
func TestOpenRejectsForgedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name   string
		forge  func(h *header)
		target error
	}{
		{"magic", func(h *header) { h.Magic = 0 }, shm.ErrCorrupt},
		{"version", func(h *header) { h.Version = 2 }, shm.ErrVersion},
		{"flags", func(h *header) { h.Flags = 1 << 5 }, shm.ErrCorrupt},
		{"length one past the object", func(h *header) { h.Len = 9 }, shm.ErrCorrupt},
		{"length huge", func(h *header) { h.Len = 1 << 62 }, shm.ErrCorrupt},
		{"length overflowing", func(h *header) { h.Len = ^uint64(0) / 4 }, shm.ErrCorrupt},
		{"elemSize", func(h *header) { h.ElemSize = 16 }, shm.ErrCorrupt},
		{"dataOff", func(h *header) { h.DataOff = 64 }, shm.ErrCorrupt},
		{"unlocked", func(h *header) { h.Flags = 0 }, shm.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seg, err := shm.Anonymous(1 << 16)
			require.NoError(t, err)
			t.Cleanup(func() { _ = seg.Detach() })
			_, err = New[int64](seg, "a", 8)
			require.NoError(t, err)
			obj, err := seg.Lookup("a")
			require.NoError(t, err)
			tc.forge((*header)(obj.Pointer(0)))
			_, err = Open[int64](seg, "a")
			require.ErrorIs(t, err, tc.target)
			_, err = Inspect(obj)
			require.ErrorIs(t, err, tc.target)
		})
	}
}

func TestGeometryAlignsMutexAndElements(t *testing.T) {
	for _, locked := range []bool{false, true} {
		g, err := computeGeometry(3, 5, locked)
		require.NoError(t, err)
		require.Zero(t, g.dataOff%64, "data on a cache line of its own")
		require.Equal(t, g.dataOff+16, g.size, "15 bytes of elements padded to 16")
	}
}
