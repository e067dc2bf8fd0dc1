package manager

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueueIsFIFOAndBounded(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	q, err := NewQueue[int](m, 2)
	require.NoError(t, err)
	require.NoError(t, q.Put(1))
	require.NoError(t, q.TryPut(2))
	assert.ErrorIs(t, q.TryPut(3), ErrFull)
	assert.ErrorIs(t, q.PutTimeout(3, time.Millisecond), ErrTimeout)
	n, err := q.Len()
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	c, err := q.Cap()
	require.NoError(t, err)
	assert.Equal(t, 2, c)
	for want := 1; want <= 2; want++ {
		v, err := q.Get()
		require.NoError(t, err)
		assert.Equal(t, want, v)
	}
	_, err = q.TryGet()
	assert.ErrorIs(t, err, ErrEmpty)
	_, err = q.GetTimeout(time.Millisecond)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// A Get blocked in the server must not hold up other calls on the same
// connection: the connection is multiplexed.
func TestBlockedGetDoesNotBlockOtherCallsOnTheConnection(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	q, err := NewQueue[string](m, 0)
	require.NoError(t, err)
	d, err := NewDict[string, int](m)
	require.NoError(t, err)
	got := make(chan string, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			v, err := q.Get()
			assert.NoError(t, err)
			got <- v
		})
	}
	// The getters wait in the server meanwhile; other calls go through.
	for i := range 20 {
		require.NoError(t, d.Set("k", i))
	}
	for _, v := range []string{"a", "b", "c", "d"} {
		require.NoError(t, q.Put(v))
	}
	wg.Wait()
	close(got)
	var all []string
	for v := range got {
		all = append(all, v)
	}
	assert.ElementsMatch(t, []string{"a", "b", "c", "d"}, all)
}

func TestCancelledGetTakesNothing(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	q, err := NewQueue[int](m, 0)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.GetContext(ctx)
		errc <- err
	}()
	// Wait until the Get is parked in the server, then cancel it.
	srvWaiting(t, m, 1)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	require.NoError(t, q.Put(7))
	v, err := q.TryGet()
	require.NoError(t, err)
	assert.Equal(t, 7, v)
}

// srvWaiting waits until n calls other than its own are in flight on m's
// connection (in the server's books).
func srvWaiting(t *testing.T, m *Manager, n int) {
	t.Helper()
	eventually(t, "calls parked in the server", func() bool {
		m.c.mu.Lock()
		defer m.c.mu.Unlock()
		return len(m.c.pending) >= n
	})
}

func TestJoinableQueueJoinWaitsForTaskDone(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	q, err := NewJoinableQueue[int](m, 0)
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, q.Put(i))
	}
	assert.ErrorIs(t, q.JoinTimeout(time.Millisecond), ErrTimeout)
	done := make(chan error, 1)
	go func() { done <- q.Join() }()
	for range 3 {
		_, err := q.Get()
		require.NoError(t, err)
		require.NoError(t, q.TaskDone())
	}
	require.NoError(t, <-done)
	assert.ErrorIs(t, q.TaskDone(), ErrTaskDone)
	n, err := q.Unfinished()
	require.NoError(t, err)
	assert.Zero(t, n)
}
