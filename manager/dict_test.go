package manager

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDictSetGetDeleteKeepsInsertionOrder(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	d, err := NewDict[string, int](m)
	require.NoError(t, err)
	for i, k := range []string{"b", "a", "c"} {
		require.NoError(t, d.Set(k, i))
	}
	v, err := d.Get("a")
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	_, err = d.Get("zz")
	assert.ErrorIs(t, err, ErrNotFound)

	ok, err := d.Delete("b")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = d.Delete("b")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, d.Set("b", 9))

	keys, err := d.Keys()
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c", "b"}, keys)
	items, err := d.Items()
	require.NoError(t, err)
	assert.Equal(t, []Item[string, int]{{"a", 1}, {"c", 2}, {"b", 9}}, items)
	n, err := d.Len()
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	got, err := d.SetDefault("a", 100)
	require.NoError(t, err)
	assert.Equal(t, 1, got)
	got, err = d.SetDefault("new", 100)
	require.NoError(t, err)
	assert.Equal(t, 100, got)
	popped, err := d.Pop("new")
	require.NoError(t, err)
	assert.Equal(t, 100, popped)
	has, err := d.Has("new")
	require.NoError(t, err)
	assert.False(t, has)

	require.NoError(t, d.Update(map[string]int{"x": 1, "y": 2}))
	vals, err := d.Values()
	require.NoError(t, err)
	assert.Len(t, vals, 5)
	require.NoError(t, d.Clear())
	n, err = d.Len()
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestDictCompactsTombstonesAndKeepsOrder(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	d, err := NewDict[int, int](m)
	require.NoError(t, err)
	for i := range 100 {
		require.NoError(t, d.Set(i, i))
	}
	for i := range 90 {
		_, err := d.Delete(i)
		require.NoError(t, err)
	}
	keys, err := d.Keys()
	require.NoError(t, err)
	assert.Equal(t, []int{90, 91, 92, 93, 94, 95, 96, 97, 98, 99}, keys)
	v, err := d.Get(95)
	require.NoError(t, err)
	assert.Equal(t, 95, v)
}

type point struct {
	X, Y int
	Tag  string
}

type record struct {
	Name  string
	Tags  []string
	Inner map[string]float64
}

func TestDictStructKeysAndGobValues(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	d, err := NewDict[point, record](m)
	require.NoError(t, err)
	k := point{1, -2, "p"}
	want := record{Name: "r", Tags: []string{"a", "b"}, Inner: map[string]float64{"pi": 3.14}}
	require.NoError(t, d.Set(k, want))
	got, err := d.Get(point{1, -2, "p"})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	keys, err := d.Keys()
	require.NoError(t, err)
	assert.Equal(t, []point{k}, keys)
}

func TestDictAnyKeysKeepTheirKind(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	d, err := NewDict[any, string](m)
	require.NoError(t, err)
	require.NoError(t, d.Set(1, "int"))
	require.NoError(t, d.Set(int64(1), "int64"))
	require.NoError(t, d.Set("1", "string"))
	require.NoError(t, d.Set(nil, "nil"))
	v, err := d.Get(int64(1))
	require.NoError(t, err)
	assert.Equal(t, "int64", v)
	keys, err := d.Keys()
	require.NoError(t, err)
	assert.Equal(t, []any{1, int64(1), "1", nil}, keys)
	assert.ErrorIs(t, d.Set([2]int{}, "x"), ErrType, "an interface key must hold a scalar")
}

func TestNewDictRefusesKeysItCannotCompare(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	type hidden struct{ x int }
	_ = hidden{x: 1}
	_, err := NewDict[hidden, int](m)
	assert.ErrorIs(t, err, ErrType)
	_, err = NewDict[*int, int](m)
	assert.ErrorIs(t, err, ErrType)
}

func TestDictIsSafeForConcurrentUse(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	d, err := NewDict[int, int](m)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				assert.NoError(t, d.Set(g*1000+i, i))
			}
		})
	}
	wg.Wait()
	n, err := d.Len()
	require.NoError(t, err)
	assert.Equal(t, 400, n)
}
