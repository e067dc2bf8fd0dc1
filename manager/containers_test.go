package manager

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListPythonIndexesAndGoSlices(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	l, err := NewList[string](m)
	require.NoError(t, err)
	require.NoError(t, l.Append("a"))
	require.NoError(t, l.Extend("b", "c", "d"))
	require.NoError(t, l.Insert(0, "start"))
	require.NoError(t, l.Insert(100, "end"))
	require.NoError(t, l.Insert(-1, "before-end"))
	all, err := l.All()
	require.NoError(t, err)
	assert.Equal(t, []string{"start", "a", "b", "c", "d", "before-end", "end"}, all)

	v, err := l.Get(-1)
	require.NoError(t, err)
	assert.Equal(t, "end", v)
	_, err = l.Get(7)
	assert.ErrorIs(t, err, ErrIndex)
	require.NoError(t, l.Set(1, "A"))
	s, err := l.Slice(1, 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "b"}, s)
	_, err = l.Slice(2, 1)
	assert.ErrorIs(t, err, ErrIndex)

	last, err := l.Pop()
	require.NoError(t, err)
	assert.Equal(t, "end", last)
	first, err := l.PopAt(0)
	require.NoError(t, err)
	assert.Equal(t, "start", first)
	n, err := l.Len()
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	require.NoError(t, l.Clear())
	_, err = l.Pop()
	assert.ErrorIs(t, err, ErrIndex)
}

func TestValueAddWrapsAtItsWidthAndCompareAndSwaps(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	v, err := NewValue[int8](m, 120)
	require.NoError(t, err)
	got, err := v.Add(10)
	require.NoError(t, err)
	assert.Equal(t, int8(-126), got)

	f, err := NewValue(m, 1.5)
	require.NoError(t, err)
	sum, err := f.Add(0.25)
	require.NoError(t, err)
	assert.Equal(t, 1.75, sum)

	s, err := NewValue(m, "x")
	require.NoError(t, err)
	_, err = s.Add("y")
	assert.ErrorIs(t, err, ErrType)
	ok, err := s.CompareAndSwap("nope", "z")
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = s.CompareAndSwap("x", "z")
	require.NoError(t, err)
	assert.True(t, ok)
	old, err := s.Swap("w")
	require.NoError(t, err)
	assert.Equal(t, "z", old)
	cur, err := s.Get()
	require.NoError(t, err)
	assert.Equal(t, "w", cur)

	r, err := NewValue(m, record{Name: "n"})
	require.NoError(t, err)
	_, err = r.CompareAndSwap(record{}, record{})
	assert.ErrorIs(t, err, ErrType)
	require.NoError(t, r.Set(record{Name: "m", Tags: []string{"t"}}))
	rv, err := r.Get()
	require.NoError(t, err)
	assert.Equal(t, record{Name: "m", Tags: []string{"t"}}, rv)
}

func TestArrayHasAFixedLength(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	a, err := NewArray(m, make([]float64, 4))
	require.NoError(t, err)
	require.NoError(t, a.Set(1, 2.5))
	require.NoError(t, a.SetSlice(2, []float64{7, 8}))
	assert.ErrorIs(t, a.SetSlice(3, []float64{1, 2}), ErrIndex)
	all, err := a.All()
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 2.5, 7, 8}, all)
	n, err := a.Len()
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	v, err := a.Get(-2)
	require.NoError(t, err)
	assert.Equal(t, 7.0, v)
	s, err := a.Slice(0, 2)
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 2.5}, s)
}

func TestNamespaceHoldsValuesOfAnyType(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	ns, err := NewNamespace(m)
	require.NoError(t, err)
	require.NoError(t, ns.Set("count", 3))
	require.NoError(t, ns.Set("rec", record{Name: "r"}))
	var n int64 // gob fills an int64 from an int
	require.NoError(t, ns.Get("count", &n))
	assert.Equal(t, int64(3), n)
	r, err := NamespaceGet[record](ns, "rec")
	require.NoError(t, err)
	assert.Equal(t, "r", r.Name)
	assert.ErrorIs(t, ns.Get("missing", &n), ErrNotFound)
	assert.ErrorIs(t, ns.Get("rec", &n), ErrType)
	names, err := ns.Names()
	require.NoError(t, err)
	assert.Equal(t, []string{"count", "rec"}, names)
	ok, err := ns.Delete("count")
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestCodecRefusesValuesOfAnotherKind(t *testing.T) {
	// A Value[string] read as a Value[int] (two proxies, one object).
	ci, cs := codecFor[int](), codecFor[string]()
	b, err := cs.encode("hello")
	require.NoError(t, err)
	_, err = ci.decode(b)
	assert.ErrorIs(t, err, ErrType)
	// Ints interconvert when they fit, as gob allows.
	b, err = codecFor[int64]().encode(300)
	require.NoError(t, err)
	_, err = codecFor[int8]().decode(b)
	assert.ErrorIs(t, err, ErrType)
	x, err := codecFor[int16]().decode(b)
	require.NoError(t, err)
	assert.Equal(t, int16(300), x)
	// Garbage never panics.
	for _, g := range [][]byte{nil, {0xff}, {byte(24)}, {byte(24), 200}, {tagGob, 1, 2}} {
		_, err := cs.decode(g)
		assert.Error(t, err)
		_, err = codecFor[record]().decode(g)
		assert.Error(t, err)
		_, err = keyCodec[point]{}.decode(g)
		assert.Error(t, err)
	}
}
