//go:build !race

package manager

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A call with fixed-size values builds its request and reads its reply in
// recycled memory: the client allocates nothing. (The server runs in a
// child, so only this process's allocations are counted.)
func TestFixedSizeCallsAllocateNothing(t *testing.T) {
	noChildren(t)
	m, err := Start(Options{})
	require.NoError(t, err)
	defer m.Close()
	v, err := NewValue(m, 7)
	require.NoError(t, err)
	d, err := NewDict[string, int](m)
	require.NoError(t, err)
	// AllocsPerRun counts the whole process: proxies dropped by earlier
	// tests, released by the collector's cleanups, allocate too. Collect
	// first, and keep the least of three measurements.
	runtime.GC()
	runtime.GC()
	allocs := 1e9
	for range 3 {
		allocs = min(allocs, testing.AllocsPerRun(500, fixedSizeCalls(t, v, d)))
	}
	assert.Zero(t, allocs, "allocations per Value Set+Add+Get and Dict Set+Get")
}

func fixedSizeCalls(t *testing.T, v *Value[int], d *Dict[string, int]) func() {
	return func() {
		if err := v.Set(3); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Add(2); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Get(); err != nil {
			t.Fatal(err)
		}
		if err := d.Set("k", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Get("k"); err != nil {
			t.Fatal(err)
		}
	}
}
