package array_test

import (
	"bytes"
	"encoding/gob"
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

func newSegment(t testing.TB) *shm.Segment { return testutil.Anonymous(t, 1<<20) }

type point struct {
	X, Y int32
	Tag  byte
}

func TestNewIsZeroAndFromSliceCopies(t *testing.T) {
	seg := newSegment(t)
	a, err := array.New[point](seg, "zero", 5)
	require.NoError(t, err)
	require.Equal(t, 5, a.Len())
	require.Equal(t, make([]point, 5), a.Slice())

	src := []point{{1, 2, 'a'}, {3, 4, 'b'}, {5, 6, 'c'}}
	b, err := array.FromSlice(seg, "copy", src)
	require.NoError(t, err)
	src[0].X = 100 // a copy: the array does not see it
	require.Equal(t, point{1, 2, 'a'}, b.At(0))
	require.Equal(t, 3, b.Len())
	require.Equal(t, 3, cap(b.Slice()))
}

func TestSliceIsAViewOfTheSharedMemory(t *testing.T) {
	seg := newSegment(t)
	a, err := array.FromSlice(seg, "a", []float64{1, 2, 3})
	require.NoError(t, err)
	b, err := array.Open[float64](seg, "a")
	require.NoError(t, err)
	a.Slice()[1] = 20
	b.Set(2, 30)
	require.Equal(t, []float64{1, 20, 30}, b.Slice())
	require.Equal(t, 30.0, a.At(2))
	require.Equal(t, &a.Slice()[0], &b.Slice()[0], "both handles view the same mapping")
}

func TestIndexOutOfRangePanicsLikeASlice(t *testing.T) {
	seg := newSegment(t)
	a, err := array.New[int64](seg, "a", 3)
	require.NoError(t, err)
	for name, f := range map[string]func(){
		"At(3)":    func() { a.At(3) },
		"At(-1)":   func() { a.At(-1) },
		"Set(3)":   func() { a.Set(3, 1) },
		"Load(3)":  func() { a.Load(3) },
		"Store(9)": func() { a.Store(9, 1) },
		"Add(3)":   func() { a.Add(3, 1) },
		"CAS(-2)":  func() { a.CompareAndSwap(-2, 0, 1) },
	} {
		requireIndexPanic(t, name, f)
	}
}

// requireIndexPanic checks that f panics as indexing a slice out of range does.
func requireIndexPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		err, ok := r.(runtime.Error)
		require.True(t, ok, "%s: panic %v is not a runtime.Error", name, r)
		require.Contains(t, err.Error(), "index out of range", name)
	}()
	f()
}

func checkAtomics[T comparable](t *testing.T, seg *shm.Segment, name string, a, b T) {
	t.Helper()
	arr, err := array.FromSlice(seg, name, []T{a, a, a, a, a})
	require.NoError(t, err)
	arr.Store(2, b)
	require.Equal(t, b, arr.Load(2))
	require.Equal(t, []T{a, a, b, a, a}, arr.Slice(), "neighbours untouched")
	require.Equal(t, b, arr.Swap(2, a))
	require.False(t, arr.CompareAndSwap(3, b, b))
	require.True(t, arr.CompareAndSwap(3, a, b))
	require.Equal(t, []T{a, a, a, b, a}, arr.Slice())
}

func TestElementAtomicsOnFourAndEightByteScalars(t *testing.T) {
	seg := newSegment(t)
	checkAtomics(t, seg, "uint32", uint32(0xffffffff), uint32(7))
	checkAtomics(t, seg, "int32", int32(-1), int32(9))
	checkAtomics(t, seg, "float32", float32(1.5), float32(-1))
	checkAtomics(t, seg, "int64", int64(math.MinInt64), int64(3))
	checkAtomics(t, seg, "float64", math.Inf(1), math.Pi)
	checkAtomics(t, seg, "complex64", complex64(1+2i), complex64(3-4i))
}

func TestAddWrapsAndSparesNeighbours(t *testing.T) {
	seg := newSegment(t)
	i32, err := array.FromSlice(seg, "i32", []int32{math.MaxInt32, math.MaxInt32, math.MaxInt32})
	require.NoError(t, err)
	require.Equal(t, int32(math.MinInt32), i32.Add(1, 1))
	require.Equal(t, []int32{math.MaxInt32, math.MinInt32, math.MaxInt32}, i32.Slice())

	u32, err := array.New[uint32](seg, "u32", 2)
	require.NoError(t, err)
	require.Equal(t, uint32(math.MaxUint32), u32.Add(1, math.MaxUint32))
	require.Equal(t, uint32(0), u32.Load(0))

	type count int
	c, err := array.New[count](seg, "count", 2)
	require.NoError(t, err)
	require.Equal(t, count(-3), c.Add(0, -3))
}

func TestAtomicsPanicForElementsTheyCannotHandle(t *testing.T) {
	seg := newSegment(t)
	f, err := array.New[float64](seg, "f", 2)
	require.NoError(t, err)
	require.PanicsWithValue(t, `array "f": Add on float64 elements, which are not integers`, func() { f.Add(0, 1) })
	p, err := array.New[point](seg, "p", 2)
	require.NoError(t, err)
	require.Panics(t, func() { p.Load(0) })
	require.Panics(t, func() { p.Store(0, point{}) })
	require.Panics(t, func() { p.CompareAndSwap(0, point{}, point{}) })
	require.Panics(t, func() { p.Add(0, point{}) })
	require.Equal(t, point{}, p.At(1), "plain access works for any T")

	b, err := array.New[bool](seg, "bool", 2)
	require.NoError(t, err)
	require.PanicsWithValue(t, `array "bool": element atomics on bool elements: they need 4- or 8-byte integer, float or complex64 elements`,
		func() { b.Store(0, true) })
	u16, err := array.New[uint16](seg, "u16", 2)
	require.NoError(t, err)
	require.PanicsWithValue(t, `array "u16": element atomics on 2-byte uint16 elements: there are none for 1- or 2-byte words (use the lock)`,
		func() { u16.Add(0, 1) })
	require.Panics(t, func() { u16.Load(0) })
}

func TestConcurrentAddsOnAdjacentElementsAreExact(t *testing.T) {
	seg := newSegment(t)
	a, err := array.New[uint32](seg, "u32", 7)
	require.NoError(t, err)
	b, err := array.New[int64](seg, "words", 3)
	require.NoError(t, err)
	const goroutines, adds = 7, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range adds {
				a.Add(g, 1) // each goroutine its own element, 16 to a cache line
				b.Add(g%3, 1)
			}
		})
	}
	wg.Wait()
	for i := range goroutines {
		require.Equal(t, uint32(adds), a.Load(i))
	}
	require.Equal(t, int64(goroutines*adds), b.Load(0)+b.Load(1)+b.Load(2))
}

func TestUpdateExcludesOtherUpdates(t *testing.T) {
	seg := newSegment(t)
	a, err := array.New[int](seg, "a", 4)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				require.NoError(t, a.Update(func(s []int) {
					for i := range s {
						s[i]++
					}
				}))
			}
		})
	}
	wg.Wait()
	require.Equal(t, []int{2000, 2000, 2000, 2000}, a.Slice())
}

func TestUpdateReleasesTheLockWhenFPanics(t *testing.T) {
	seg := newSegment(t)
	a, err := array.New[int](seg, "a", 1)
	require.NoError(t, err)
	require.Panics(t, func() { _ = a.Update(func(s []int) { s[0] = 1; panic("boom") }) })
	require.False(t, a.Mutex().Locked())
	require.NoError(t, a.Update(func(s []int) { s[0]++ }))
	require.Equal(t, 2, a.At(0))
}

func TestLockUnlockGuardsTheView(t *testing.T) {
	seg := newSegment(t)
	a, err := array.New[int](seg, "a", 2)
	require.NoError(t, err)
	require.NoError(t, a.Lock())
	require.ErrorIs(t, a.Mutex().TryLock(), semaphore.ErrWouldBlock)
	s := a.Slice()
	s[0], s[1] = 1, 2
	require.NoError(t, a.Unlock())
	require.ErrorIs(t, a.Unlock(), semaphore.ErrUnlocked)
}

func TestZeroLengthAndZeroSizeArrays(t *testing.T) {
	seg := newSegment(t)
	a, err := array.New[int64](seg, "empty", 0)
	require.NoError(t, err)
	require.Equal(t, 0, a.Len())
	require.Empty(t, a.Slice())
	require.NoError(t, a.Update(func(s []int64) { require.Empty(t, s) }))

	z, err := array.New[struct{}](seg, "zero-size", 1000)
	require.NoError(t, err)
	require.Equal(t, 1000, z.Len())
	z.Set(999, struct{}{})
	o, err := array.Open[struct{}](seg, "zero-size")
	require.NoError(t, err)
	require.Equal(t, 1000, o.Len())

	_, err = array.New[int](seg, "negative", -1)
	require.ErrorIs(t, err, shm.ErrInvalidSize)
	_, err = array.New[[1 << 20]byte](seg, "huge", 1<<30)
	require.ErrorIs(t, err, shm.ErrInvalidSize)
	_, err = array.New[int64](seg, "too-big-for-segment", 1<<20)
	require.ErrorIs(t, err, shm.ErrNoSpace)
}

type withMap struct {
	ID   int
	Tags map[string]int
}

func TestNewRefusesTypesWithPointersNamingTheField(t *testing.T) {
	seg := newSegment(t)
	_, err := array.New[withMap](seg, "m", 1)
	require.ErrorIs(t, err, array.ErrNotFixedSize)
	require.Contains(t, err.Error(), "withMap.Tags")
	require.Contains(t, err.Error(), "map")
	_, err = array.FromSlice(seg, "s", []string{"x"})
	require.ErrorIs(t, err, array.ErrNotFixedSize)
	_, err = array.OpenRaw[[2]*int](seg, "p")
	require.ErrorIs(t, err, array.ErrNotFixedSize)
}

func TestOpenWithAnotherTypeOrKindFails(t *testing.T) {
	seg := newSegment(t)
	_, err := array.New[int64](seg, "locked", 4)
	require.NoError(t, err)
	_, err = array.NewRaw[int64](seg, "raw", 4)
	require.NoError(t, err)
	_, err = array.Open[float64](seg, "locked")
	require.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = array.Open[int32](seg, "locked")
	require.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = array.OpenRaw[int64](seg, "locked")
	require.ErrorIs(t, err, shm.ErrKindMismatch)
	_, err = array.Open[int64](seg, "raw")
	require.ErrorIs(t, err, shm.ErrKindMismatch)
	_, err = seg.Create(shm.Spec{Name: "bytes", Kind: shm.KindBytes, Size: 64}, nil)
	require.NoError(t, err)
	_, err = array.Open[int64](seg, "bytes")
	require.ErrorIs(t, err, shm.ErrKindMismatch)
	_, err = array.Open[int64](seg, "absent")
	require.ErrorIs(t, err, shm.ErrNotFound)
	_, err = array.New[int64](seg, "raw", 1)
	require.ErrorIs(t, err, shm.ErrExists)
}

func TestArrayCrossesGobAndReopensByName(t *testing.T) {
	seg := newSegment(t)
	a, err := array.FromSlice(seg, "a", []uint32{1, 2, 3})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, gob.NewEncoder(&buf).Encode(a))
	enc := buf.Bytes()

	var b *array.Array[uint32]
	require.NoError(t, gob.NewDecoder(bytes.NewReader(enc)).Decode(&b))
	t.Cleanup(func() { _ = b.Detach() })
	b.Add(2, 10)
	require.Equal(t, []uint32{1, 2, 13}, a.Slice())

	var wrong *array.Array[int32]
	err = gob.NewDecoder(bytes.NewReader(enc)).Decode(&wrong)
	require.ErrorIs(t, err, shm.ErrTypeMismatch)
	var raw *array.RawArray[uint32]
	err = gob.NewDecoder(bytes.NewReader(enc)).Decode(&raw)
	require.ErrorIs(t, err, shm.ErrKindMismatch)
}
