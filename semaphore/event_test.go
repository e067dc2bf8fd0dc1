package semaphore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEventSetClearIsSet(t *testing.T) {
	seg := newSeg(t)
	e, err := NewEvent(seg, "e")
	require.NoError(t, err)
	require.False(t, e.IsSet())
	e.Set()
	require.True(t, e.IsSet())
	e.Set()
	require.True(t, e.IsSet())
	require.NoError(t, e.Wait())
	require.NoError(t, e.WaitTimeout(0))
	e.Clear()
	require.False(t, e.IsSet())
	e.Clear()
	require.False(t, e.IsSet())
	o, err := OpenEvent(seg, "e")
	require.NoError(t, err)
	o.Set()
	require.True(t, e.IsSet())
}

func TestEventSetWakesEveryWaiter(t *testing.T) {
	seg := newSeg(t)
	e, err := NewEvent(seg, "e")
	require.NoError(t, err)
	const n = 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- e.Wait() })
	}
	e.Set()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// lock_tests.py test_set_and_clear: waiters asleep across Set+Clear return.
func TestEventWaitersAsleepAcrossSetAndClearReturn(t *testing.T) {
	seg := newSeg(t)
	e, err := NewEvent(seg, "e")
	require.NoError(t, err)
	obj, err := seg.Lookup("e")
	require.NoError(t, err)
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() { errs <- e.WaitTimeout(time.Minute) }()
	}
	require.Eventually(t, func() bool {
		st, _ := InspectEvent(obj)
		return st.Sleepers == n
	}, 10*time.Second, time.Millisecond)
	e.Set()
	e.Clear()
	for range n {
		require.NoError(t, <-errs)
	}
}

func TestEventWaitTimeoutAndCancelReturnPromptly(t *testing.T) {
	e, err := NewEvent(newSeg(t), "e")
	require.NoError(t, err)
	start := time.Now()
	require.ErrorIs(t, e.WaitTimeout(0), ErrTimeout)
	require.ErrorIs(t, e.WaitTimeout(20*time.Millisecond), ErrTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.WaitContext(ctx) }()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.Less(t, time.Since(start), 10*time.Second)
	e.Set()
	require.NoError(t, e.WaitContext(ctx), "a set event wins over a done context")
}
