package semaphore

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Event.TryWait is Python's wait(0): the flag, as an error.
func TestEventTryWaitReturnsTheFlag(t *testing.T) {
	e, err := NewEvent(newSeg(t), "e")
	require.NoError(t, err)
	require.ErrorIs(t, e.TryWait(), ErrWouldBlock)
	e.Set()
	require.NoError(t, e.TryWait())
	e.Clear()
	require.ErrorIs(t, e.TryWait(), ErrWouldBlock)
}

// Barrier.TryWait passes only as the round's last arrival, and otherwise
// changes nothing (Python's wait(0) would break the barrier).
func TestBarrierTryWaitPassesOnlyAsTheLastArrival(t *testing.T) {
	b, err := NewBarrier(newSeg(t), "b", 3, nil)
	require.NoError(t, err)
	_, err = b.TryWait()
	require.ErrorIs(t, err, ErrWouldBlock)
	require.False(t, b.Broken())
	require.Zero(t, b.NWaiting())

	var wg sync.WaitGroup
	idx := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); idx[i], errs[i] = b.WaitTimeout(30 * time.Second) }()
		require.Eventually(t, func() bool { return b.NWaiting() == i+1 }, 30*time.Second, time.Millisecond)
		if i == 0 {
			_, err = b.TryWait()
			require.ErrorIs(t, err, ErrWouldBlock, "one of three waits: not the last")
			require.Equal(t, 1, b.NWaiting(), "unchanged")
		}
	}
	last, err := b.TryWait()
	require.NoError(t, err)
	assert.Equal(t, 2, last)
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	assert.ElementsMatch(t, []int{0, 1}, idx)
	assert.False(t, b.Broken())
}

// Every Try form of the package fails with ErrWouldBlock and waits for
// nothing; every Timeout(0) form with ErrTimeout.
func TestTryAndZeroTimeoutForms(t *testing.T) {
	seg := newSeg(t)
	s, err := NewSemaphore(seg, "s", 0)
	require.NoError(t, err)
	require.ErrorIs(t, s.TryAcquire(), ErrWouldBlock)
	require.ErrorIs(t, s.AcquireTimeout(0), ErrTimeout)
	require.ErrorIs(t, s.AcquireTimeout(-time.Second), ErrTimeout)
	require.NoError(t, s.Release())
	require.NoError(t, s.TryAcquire())

	e, err := NewEvent(seg, "e")
	require.NoError(t, err)
	require.ErrorIs(t, e.WaitTimeout(0), ErrTimeout)

	mu, err := NewMutex(seg, "m")
	require.NoError(t, err)
	c, err := NewCondition(seg, "c", mu)
	require.NoError(t, err)
	require.NoError(t, mu.Lock())
	require.ErrorIs(t, c.WaitTimeout(0), ErrTimeout)
	require.True(t, mu.HeldBySelf(), "relocked")
	require.ErrorIs(t, c.WaitForTimeout(0, func() bool { return false }), ErrTimeout)
	require.NoError(t, mu.Unlock())
}
