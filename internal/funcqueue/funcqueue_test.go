package funcqueue

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunsInOrderAndCloseDrains(t *testing.T) {
	q := New()
	var got []int
	for i := range 1000 {
		q.Push(func() { got = append(got, i) }) // one goroutine runs them: no race
	}
	q.Close()
	require.Len(t, got, 1000)
	for i, v := range got {
		require.Equal(t, i, v)
	}
}

func TestPushAfterCloseRunsAtOnce(t *testing.T) {
	q := New()
	q.Close()
	q.Close() // idempotent
	var ran atomic.Bool
	q.Push(func() { ran.Store(true) })
	require.True(t, ran.Load())
}
