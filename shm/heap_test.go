package shm_test

import (
	"testing"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type point struct{ X, Y, Z float64 }

// Every kind's size helper says what its object really takes, and Heap of
// them is room for all of them: nobody has to guess a segment's size.
func TestHeapOfTheSizeHelpersHoldsEveryKind(t *testing.T) {
	must := func(n int, err error) int { require.NoError(t, err); return n }
	qopts := ringqueue.Options{Capacity: 64}
	want := map[string]int{
		"value":     must(value.Size[int64]()),
		"raw-value": must(value.RawSize[point]()),
		"array":     must(array.Size[point](1000)),
		"raw-array": must(array.RawSize[byte](100)),
		"queue":     must(ringqueue.Size(qopts)),
		"typed":     must(ringqueue.TypedSize[point](qopts)),
		"mutex":     semaphore.MutexSize,
		"rlock":     semaphore.RLockSize,
		"semaphore": semaphore.SemaphoreSize,
		"event":     semaphore.EventSize,
		"barrier":   semaphore.BarrierSize,
		"condition": semaphore.ConditionSize,
	}
	var sizes []int
	for _, n := range want {
		sizes = append(sizes, n)
	}
	heap := shm.Heap(sizes...)
	seg, err := shm.Anonymous(heap)
	require.NoError(t, err)
	defer seg.Detach()

	_, err = value.New[int64](seg, "value", 1)
	require.NoError(t, err)
	_, err = value.NewRaw(seg, "raw-value", point{})
	require.NoError(t, err)
	_, err = array.New[point](seg, "array", 1000)
	require.NoError(t, err)
	_, err = array.NewRaw[byte](seg, "raw-array", 100)
	require.NoError(t, err)
	_, err = ringqueue.New(seg, "queue", qopts)
	require.NoError(t, err)
	_, err = ringqueue.NewTyped[point](seg, "typed", qopts)
	require.NoError(t, err)
	mu, err := semaphore.NewMutex(seg, "mutex")
	require.NoError(t, err)
	_, err = semaphore.NewRLock(seg, "rlock")
	require.NoError(t, err)
	_, err = semaphore.NewSemaphore(seg, "semaphore", 1)
	require.NoError(t, err)
	_, err = semaphore.NewEvent(seg, "event")
	require.NoError(t, err)
	_, err = semaphore.NewBarrier(seg, "barrier", 2, nil)
	require.NoError(t, err)
	_, err = semaphore.NewCondition(seg, "condition", mu)
	require.NoError(t, err)

	for name, n := range want {
		obj, err := seg.Lookup(name)
		require.NoError(t, err, name)
		assert.EqualValues(t, n, obj.Size, "%s: the helper's size", name)
	}
	info, err := seg.Info()
	require.NoError(t, err)
	assert.LessOrEqual(t, info.Used, heap, "Heap left room for all of them")
}

func TestHeapRoundsEachObjectUpTo64Bytes(t *testing.T) {
	assert.Equal(t, 0, shm.Heap())
	assert.Equal(t, 64, shm.Heap(1))
	assert.Equal(t, 64+128, shm.Heap(64, 65))
	assert.Equal(t, 64, shm.Heap(-5, 64))
}
