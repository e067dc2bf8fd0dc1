//go:build !race

package ringqueue

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The race detector allocates on its own: allocation counts are checked
// without it. The measured functions keep the first error aside instead
// of calling testify, whose interface arguments would allocate.

func TestTypedRawPutGetDoNotAllocate(t *testing.T) {
	for _, mode := range []Mode{MPMC, SPSC} {
		q := newTypedT[tqJob](t, Options{Capacity: 64, Mode: mode})
		v := jobFor(1, 2)
		dst := make([]tqJob, 8)
		src := []tqJob{v, v, v, v, v, v, v, v}
		var first error
		keep := func(err error) {
			if first == nil {
				first = err
			}
		}
		bad := 0
		allocs := testing.AllocsPerRun(200, func() {
			keep(q.Put(v))
			keep(q.TryPut(v))
			got, err := q.Get()
			keep(err)
			if got != v {
				bad++
			}
			_, err = q.TryGet()
			keep(err)
			_, err = q.PutBatch(src)
			keep(err)
			n, err := q.GetBatch(dst)
			keep(err)
			if n != len(dst) {
				bad++
			}
		})
		require.NoError(t, first)
		assert.Zero(t, bad)
		assert.Zero(t, allocs, "%v: allocations per put/get round", mode)
	}
}

func TestJoinableRawPutGetTaskDoneDoNotAllocate(t *testing.T) {
	j := newJoinableT[tqJob](t, Options{Capacity: 64})
	v := jobFor(3, 4)
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	allocs := testing.AllocsPerRun(200, func() {
		keep(j.Put(v))
		_, err := j.Get()
		keep(err)
		keep(j.TaskDone())
		keep(j.Join())
	})
	require.NoError(t, first)
	assert.Zero(t, allocs)
}
