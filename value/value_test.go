package value_test

import (
	"bytes"
	"encoding/gob"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

func newSegment(t testing.TB) *shm.Segment { return testutil.Anonymous(t, 1<<20) }

type padded struct {
	A int8
	B int32
} // 3 bytes of padding after A

type big struct {
	A uint64
	B [13]byte
	C int16
	D [5]uint64
} // 72 bytes, padding after B

type withString struct {
	N    int
	Name string
}

func roundTrip[T comparable](t *testing.T, seg *shm.Segment, name string, a, b T) {
	t.Helper()
	v, err := value.NewRaw(seg, name, a)
	require.NoError(t, err)
	require.Equal(t, a, v.Load())
	v.Store(b)
	require.Equal(t, b, v.Load())
	require.Equal(t, b, v.Swap(a))
	require.Equal(t, a, v.Load())
	require.Equal(t, a == b, v.CompareAndSwap(b, b))
	require.True(t, v.CompareAndSwap(a, b))
	require.Equal(t, b, v.Load())
	w, err := value.OpenRaw[T](seg, name)
	require.NoError(t, err)
	require.Equal(t, b, w.Load())
}

func TestRawValueLoadStoreSwapCASEveryWidth(t *testing.T) {
	seg := newSegment(t)
	roundTrip(t, seg, "bool", false, true)
	roundTrip(t, seg, "int8", int8(-3), int8(100))
	roundTrip(t, seg, "uint16", uint16(7), uint16(65000))
	roundTrip(t, seg, "bytes3", [3]byte{1, 2, 3}, [3]byte{4, 5, 6})
	roundTrip(t, seg, "int32", int32(-1), int32(math.MaxInt32))
	roundTrip(t, seg, "float32", float32(1.5), float32(-2.25))
	roundTrip(t, seg, "bytes5", [5]byte{1, 2, 3, 4, 5}, [5]byte{9, 8, 7, 6, 5})
	roundTrip(t, seg, "int64", int64(math.MinInt64), int64(42))
	roundTrip(t, seg, "float64", math.Pi, math.E)
	roundTrip(t, seg, "padded", padded{-1, -2}, padded{3, 4})
	roundTrip(t, seg, "complex128", complex(1, 2), complex(3, 4))
	roundTrip(t, seg, "big", big{A: 1, B: [13]byte{1}, C: -1, D: [5]uint64{5}}, big{A: 2, C: 7, D: [5]uint64{0, 0, 0, 0, 9}})
	roundTrip(t, seg, "array100", [100]byte{0: 1, 99: 2}, [100]byte{50: 3})
	roundTrip(t, seg, "empty", struct{}{}, struct{}{})
}

func TestAddOnFourAndEightByteIntegersWraps(t *testing.T) {
	seg := newSegment(t)
	i32, err := value.NewRaw[int32](seg, "i32", 5)
	require.NoError(t, err)
	require.Equal(t, int32(-5), i32.Add(-10))

	type count uint64
	c, err := value.NewRaw[count](seg, "count", math.MaxUint64)
	require.NoError(t, err)
	require.Equal(t, count(0), c.Add(1))

	p, err := value.NewRaw[uintptr](seg, "uintptr", 10)
	require.NoError(t, err)
	require.Equal(t, uintptr(9), p.Add(^uintptr(0)))
	require.Equal(t, uintptr(9), p.Load())
}

func TestAddPanicsForNonIntegersAndNarrowIntegers(t *testing.T) {
	seg := newSegment(t)
	f, err := value.NewRaw(seg, "f", 1.5)
	require.NoError(t, err)
	require.PanicsWithValue(t, `value "f": Add on float64, which is not an integer type`, func() { f.Add(1) })
	i8, err := value.New[int8](seg, "i8", 1)
	require.NoError(t, err)
	require.PanicsWithValue(t, `value "i8": Add on int8: there is no atomic add for 1-byte integers `+
		`(use a 4- or 8-byte integer, CompareAndSwap in a loop, or Update)`, func() { i8.Add(1) })
	require.Equal(t, int8(1), i8.Load())
	e, err := value.NewRaw(seg, "empty", struct{}{})
	require.NoError(t, err)
	require.Panics(t, func() { e.Add(struct{}{}) })
}

func TestCompareAndSwapIgnoresPaddingBytes(t *testing.T) {
	seg := newSegment(t)
	v, err := value.NewRaw(seg, "p", padded{1, 2})
	require.NoError(t, err)
	old := padded{1, 2}
	// Dirty old's padding, which a Go value may carry.
	(*[8]byte)(unsafePointer(&old))[1] = 0xaa
	require.True(t, v.CompareAndSwap(old, padded{5, 6}))
	require.Equal(t, padded{5, 6}, v.Load())

	b, err := value.NewRaw(seg, "b", big{A: 1})
	require.NoError(t, err)
	oldBig := big{A: 1}
	(*[72]byte)(unsafePointer(&oldBig))[8+13] = 0xbb // padding after B
	require.True(t, b.CompareAndSwap(oldBig, big{A: 2}))
	require.Equal(t, big{A: 2}, b.Load())
}

func TestNewRefusesTypesWithPointersNamingTheField(t *testing.T) {
	seg := newSegment(t)
	_, err := value.NewRaw(seg, "s", withString{})
	require.ErrorIs(t, err, value.ErrNotFixedSize)
	require.Contains(t, err.Error(), "withString.Name")
	require.Contains(t, err.Error(), "string")

	_, err = value.NewRaw[[]int](seg, "slice", nil)
	require.ErrorIs(t, err, value.ErrNotFixedSize)
	_, err = value.OpenRaw[*int](seg, "ptr")
	require.ErrorIs(t, err, value.ErrNotFixedSize)
}

func TestOpenWithAnotherTypeIsTypeMismatch(t *testing.T) {
	seg := newSegment(t)
	_, err := value.NewRaw[int64](seg, "n", 1)
	require.NoError(t, err)
	_, err = value.OpenRaw[uint32](seg, "n")
	require.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = value.OpenRaw[float64](seg, "n") // same size, other layout
	require.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = value.OpenRaw[int64](seg, "absent")
	require.ErrorIs(t, err, shm.ErrNotFound)
}

func TestOpenAnotherKindIsKindMismatch(t *testing.T) {
	seg := newSegment(t)
	_, err := seg.Create(shm.Spec{Name: "bytes", Kind: shm.KindBytes, Size: 64}, nil)
	require.NoError(t, err)
	_, err = value.OpenRaw[int64](seg, "bytes")
	require.ErrorIs(t, err, shm.ErrKindMismatch)
}

func TestNewTakenNameIsErrExists(t *testing.T) {
	seg := newSegment(t)
	_, err := value.NewRaw(seg, "n", 1)
	require.NoError(t, err)
	_, err = value.NewRaw(seg, "n", 2)
	require.ErrorIs(t, err, shm.ErrExists)
}

func TestConcurrentAddSumsExactly(t *testing.T) {
	seg := newSegment(t)
	v, err := value.NewRaw[int64](seg, "n", 0)
	require.NoError(t, err)
	small, err := value.NewRaw[uint16](seg, "small", 0)
	require.NoError(t, err)
	word, err := value.NewRaw[uint32](seg, "word", 0)
	require.NoError(t, err)
	const goroutines, adds = 8, 5000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range adds {
				v.Add(1)
				word.Add(1)
				for { // a 2-byte value has no atomic add: CAS it
					old := small.Load()
					if small.CompareAndSwap(old, old+1) {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(goroutines*adds), v.Load())
	require.Equal(t, uint32(goroutines*adds), word.Load())
	require.Equal(t, uint16(goroutines*adds), small.Load())
}

// A buffered value is read while others store: every load is one whole
// stored value, never a mix of two.
func TestBufferedLoadIsNeverTorn(t *testing.T) {
	seg := newSegment(t)
	type wide [16]uint64
	fill := func(n uint64) (w wide) {
		for i := range w {
			w[i] = n
		}
		return w
	}
	v, err := value.NewRaw(seg, "wide", fill(0))
	require.NoError(t, err)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 2 {
		wg.Go(func() {
			for n := uint64(g); ; n += 2 {
				select {
				case <-stop:
					return
				default:
				}
				v.Store(fill(n))
			}
		})
	}
	for range 20000 {
		w := v.Load()
		for i := range w {
			if w[i] != w[0] {
				close(stop)
				wg.Wait()
				t.Fatalf("torn load: %v", w)
			}
		}
	}
	close(stop)
	wg.Wait()
}

func TestBufferedCompareAndSwapIncrementsExactly(t *testing.T) {
	seg := newSegment(t)
	type pair struct{ A, B, C int64 }
	v, err := value.NewRaw(seg, "pair", pair{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	const goroutines, incs = 4, 500
	for range goroutines {
		wg.Go(func() {
			for range incs {
				for {
					old := v.Load()
					if v.CompareAndSwap(old, pair{old.A + 1, old.B + 2, old.C + 3}) {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	n := int64(goroutines * incs)
	require.Equal(t, pair{n, 2 * n, 3 * n}, v.Load())
}

func TestRawValueCrossesGobAndReopensByName(t *testing.T) {
	seg := newSegment(t)
	v, err := value.NewRaw[int64](seg, "n", 41)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, gob.NewEncoder(&buf).Encode(v))
	enc := buf.Bytes()

	var w *value.RawValue[int64]
	require.NoError(t, gob.NewDecoder(bytes.NewReader(enc)).Decode(&w))
	t.Cleanup(func() { _ = w.Detach() })
	require.Equal(t, int64(42), w.Add(1))
	require.Equal(t, int64(42), v.Load())

	var wrong *value.RawValue[int32]
	err = gob.NewDecoder(bytes.NewReader(enc)).Decode(&wrong)
	require.ErrorIs(t, err, shm.ErrTypeMismatch)
	require.True(t, strings.Contains(err.Error(), `"n"`), err.Error())
	require.False(t, errors.Is(err, shm.ErrKindMismatch))
}
