package semaphore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSemaphoreRejectsBadValues(t *testing.T) {
	seg := newSeg(t)
	_, err := NewSemaphore(seg, "neg", -1)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = NewSemaphore(seg, "big", SemaphoreMax+1)
	require.ErrorIs(t, err, ErrInvalid)
	s, err := NewSemaphore(seg, "zero", 0)
	require.NoError(t, err)
	require.Equal(t, 0, s.Value())
}

func TestSemaphoreAcquireRelease(t *testing.T) {
	seg := newSeg(t)
	s, err := NewSemaphore(seg, "s", 2)
	require.NoError(t, err)
	require.NoError(t, s.Acquire())
	require.NoError(t, s.TryAcquire())
	require.Equal(t, 0, s.Value())
	require.ErrorIs(t, s.TryAcquire(), ErrWouldBlock)
	require.ErrorIs(t, s.AcquireTimeout(time.Millisecond), ErrTimeout)
	require.NoError(t, s.Release())
	require.NoError(t, s.Release())
	require.NoError(t, s.Release(), "an unbounded semaphore may go above its initial value")
	require.Equal(t, 3, s.Value())
	_, bounded := s.Bounded()
	require.False(t, bounded)
}

func TestBoundedSemaphoreReleaseAboveBoundFails(t *testing.T) {
	seg := newSeg(t)
	s, err := NewBoundedSemaphore(seg, "b", 2)
	require.NoError(t, err)
	require.ErrorIs(t, s.Release(), ErrBoundExceeded)
	require.NoError(t, s.Acquire())
	require.NoError(t, s.Release())
	require.ErrorIs(t, s.Release(), ErrBoundExceeded)
	require.Equal(t, 2, s.Value(), "a failed release changes nothing")
	o, err := OpenSemaphore(seg, "b")
	require.NoError(t, err)
	bound, bounded := o.Bounded()
	require.True(t, bounded)
	require.Equal(t, 2, bound)
	require.ErrorIs(t, o.Release(), ErrBoundExceeded)
}

// lock_tests.py test_acquire_contended: a semaphore of 7 lets exactly as
// many waiters through as units are released.
func TestSemaphoreContendedLetsThroughExactlyTheReleasedUnits(t *testing.T) {
	s, err := NewSemaphore(newSeg(t), "s", 7)
	require.NoError(t, err)
	for range 7 {
		require.NoError(t, s.Acquire())
	}
	const waiters = 10
	var through atomic.Int32
	var wg sync.WaitGroup
	for range waiters {
		wg.Go(func() {
			if err := s.Acquire(); err != nil {
				t.Error(err)
				return
			}
			through.Add(1)
		})
	}
	for range 6 {
		require.NoError(t, s.Release())
	}
	require.Eventually(t, func() bool { return through.Load() == 6 && s.Value() == 0 }, 10*time.Second, time.Millisecond)
	for range waiters - 6 {
		require.NoError(t, s.Release())
	}
	wg.Wait()
	require.Equal(t, int32(waiters), through.Load())
	require.Equal(t, 0, s.Value())
}

func TestSemaphoreBoundsConcurrency(t *testing.T) {
	seg := newSeg(t)
	s, err := NewBoundedSemaphore(seg, "s", 3)
	require.NoError(t, err)
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 300 {
				if err := s.Acquire(); err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				inside.Add(-1)
				if err := s.Release(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, most.Load(), int32(3))
	require.Equal(t, 3, s.Value())
}

func TestSemaphoreWaitsReturnPromptlyOnTimeoutAndCancel(t *testing.T) {
	s, err := NewSemaphore(newSeg(t), "s", 0)
	require.NoError(t, err)
	start := time.Now()
	require.ErrorIs(t, s.AcquireTimeout(20*time.Millisecond), ErrTimeout)
	require.ErrorIs(t, s.AcquireTimeout(0), ErrTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.AcquireContext(ctx) }()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.AcquireContext(ctx), context.DeadlineExceeded)
	require.Less(t, time.Since(start), 10*time.Second)
	require.Equal(t, 0, s.Value(), "giving up takes nothing")
}

func TestSemaphoreReleaseWakesParkedWaiter(t *testing.T) {
	seg := newSeg(t)
	s, err := NewSemaphore(seg, "s", 0)
	require.NoError(t, err)
	got := make(chan error, 1)
	go func() { got <- s.Acquire() }()
	obj, err := seg.Lookup("s")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, _ := InspectSemaphore(obj)
		return st.Sleepers == 1
	}, 10*time.Second, time.Millisecond)
	require.NoError(t, s.Release())
	require.NoError(t, <-got)
}
