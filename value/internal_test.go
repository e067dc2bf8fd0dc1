package value

import (
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/shm"
)

func testSegment(t *testing.T) *shm.Segment {
	t.Helper()
	seg, err := shm.Anonymous(1 << 16)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Detach() })
	return seg
}

// deadTag names no live process: this process's slot, another generation.
func deadTag(seg *shm.Segment) uint64 { return seg.Self() ^ 1<<10 }

func TestStoreTakesOverTheClaimOfADeadWriter(t *testing.T) {
	seg := testSegment(t)
	type wide [3]uint64
	v, err := NewRaw(seg, "w", wide{1, 1, 1})
	require.NoError(t, err)
	// A writer died mid-store: its claim stays, the buffer it was writing
	// (the one readers do not read) is torn.
	atomic.StoreUint64(v.c.writer, deadTag(seg))
	*(*uint64)(v.c.buf(1)) = 99
	require.Equal(t, wide{1, 1, 1}, v.Load())

	obj, err := seg.Lookup("w")
	require.NoError(t, err)
	info, err := Inspect(obj)
	require.NoError(t, err)
	require.Equal(t, deadTag(seg), info.Writer)
	require.False(t, info.WriterAlive)

	v.Store(wide{2, 2, 2})
	require.Equal(t, wide{2, 2, 2}, v.Load())
	require.Zero(t, atomic.LoadUint64(v.c.writer))
	require.True(t, v.CompareAndSwap(wide{2, 2, 2}, wide{3, 3, 3}))
	require.Equal(t, wide{3, 3, 3}, v.Load())
}

func TestOpenRejectsForgedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name   string
		forge  func(h *header)
		target error
	}{
		{"magic", func(h *header) { h.Magic++ }, shm.ErrCorrupt},
		{"version", func(h *header) { h.Version = 9 }, shm.ErrVersion},
		{"flags", func(h *header) { h.Flags |= 1 << 7 }, shm.ErrCorrupt},
		{"elemSize", func(h *header) { h.ElemSize = 4 }, shm.ErrCorrupt},
		{"dataOff", func(h *header) { h.DataOff = 1 << 20 }, shm.ErrCorrupt},
		{"stride", func(h *header) { h.Stride = 1 << 30 }, shm.ErrCorrupt},
		{"buffers", func(h *header) { h.Buffers = 1 }, shm.ErrCorrupt},
		{"unlocked", func(h *header) { h.Flags = 0 }, shm.ErrCorrupt}, // geometry no longer adds up
	} {
		t.Run(tc.name, func(t *testing.T) {
			seg := testSegment(t)
			_, err := New(seg, "v", [4]uint64{})
			require.NoError(t, err)
			obj, err := seg.Lookup("v")
			require.NoError(t, err)
			tc.forge((*header)(obj.Pointer(0)))
			_, err = Open[[4]uint64](seg, "v")
			require.ErrorIs(t, err, tc.target)
			_, err = Inspect(obj)
			require.ErrorIs(t, err, tc.target)
		})
	}
}

func TestLayoutPutsMutexAndDataOnLinesOfTheirOwn(t *testing.T) {
	for _, size := range []uintptr{0, 1, 8, 9, 64, 65, 1000} {
		for _, locked := range []bool{false, true} {
			g := computeGeometry(size, locked)
			require.Zero(t, g.dataOff%cacheLine)
			require.Zero(t, g.stride%cacheLine)
			require.GreaterOrEqual(t, g.size, g.dataOff+g.buffers*max(size, wordSize))
			if locked {
				require.Equal(t, uintptr(headerSize+64), g.dataOff)
			}
		}
	}
	require.Equal(t, 64, int(unsafe.Sizeof(header{})))
}

func TestPaddingMaskCoversFieldsOnly(t *testing.T) {
	type p struct {
		A int8
		B int32
		C int16
	}
	m := paddingMask(reflectTypeFor[p]())
	require.Len(t, m, 2)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&m[0])), 16)
	require.Equal(t, []byte{0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0}, b)
	require.Nil(t, paddingMask(reflectTypeFor[[3]int32]()))
}

func reflectTypeFor[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Review defect 2: a writer claim bearing this process's own ID that no
// goroutine of this process holds (forged, or left by a corrupt segment)
// is taken over, not waited on forever: this process's writers queue on a
// process-local lock first, so while one holds it the claim cannot be
// another goroutine's.
func TestStoreTakesOverAClaimForgedWithOwnID(t *testing.T) {
	seg := testSegment(t)
	type wide [3]uint64
	v, err := NewRaw(seg, "w", wide{1, 1, 1})
	require.NoError(t, err)
	atomic.StoreUint64(v.c.writer, seg.Self())
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.Store(wide{2, 2, 2})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Store still waits on a claim bearing its own ID")
	}
	require.Equal(t, wide{2, 2, 2}, v.Load())
	require.Zero(t, atomic.LoadUint64(v.c.writer))
}

// Goroutines of one process storing a buffered value take turns through
// the process-local lock and the shared claim: every load is whole.
func TestConcurrentStoresOfABufferedValueStayWhole(t *testing.T) {
	seg := testSegment(t)
	type wide [4]uint64
	v, err := NewRaw(seg, "w", wide{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				x := uint64(g*1_000_000 + i)
				v.Store(wide{x, x, x, x})
				if got := v.Load(); got[0] != got[1] || got[1] != got[2] || got[2] != got[3] {
					t.Errorf("torn load %v", got)
					return
				}
			}
		})
	}
	wg.Wait()
}
