package semaphore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// runParties runs f in n goroutines and returns their results.
func runParties(n int, f func(i int) (int, error)) ([]int, []error) {
	idx := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { idx[i], errs[i] = f(i) })
	}
	wg.Wait()
	return idx, errs
}

func TestBarrierRejectsBadParties(t *testing.T) {
	seg := newSeg(t)
	_, err := NewBarrier(seg, "b0", 0, nil)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = NewBarrier(seg, "bx", MaxParties+1, nil)
	require.ErrorIs(t, err, ErrInvalid)
}

// lock_tests.py test_barrier / test_wait_return: several rounds, each
// returning every index 0..n-1 once.
func TestBarrierRoundsReturnEveryIndexOnce(t *testing.T) {
	b, err := NewBarrier(newSeg(t), "b", 5, nil)
	require.NoError(t, err)
	require.Equal(t, 5, b.Parties())
	for range 10 {
		idx, errs := runParties(5, func(int) (int, error) { return b.Wait() })
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.ElementsMatch(t, []int{0, 1, 2, 3, 4}, idx)
		require.Equal(t, 0, b.NWaiting())
	}
}

// lock_tests.py test_action: the action runs once per round, before anyone
// is released.
func TestBarrierActionRunsOncePerRoundBeforeRelease(t *testing.T) {
	var runs atomic.Int32
	b, err := NewBarrier(newSeg(t), "b", 3, func() error { runs.Add(1); return nil })
	require.NoError(t, err)
	for round := int32(1); round <= 5; round++ {
		_, errs := runParties(3, func(int) (int, error) {
			i, err := b.Wait()
			if got := runs.Load(); got != round {
				return i, errors.New("released before the action ran")
			}
			return i, err
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
	}
	require.Equal(t, int32(5), runs.Load())
}

func TestBarrierFailingActionBreaksIt(t *testing.T) {
	boom := errors.New("boom")
	b, err := NewBarrier(newSeg(t), "b", 3, func() error { return boom })
	require.NoError(t, err)
	_, errs := runParties(3, func(int) (int, error) { return b.Wait() })
	var sawBoom int
	for _, err := range errs {
		require.ErrorIs(t, err, ErrBrokenBarrier)
		if errors.Is(err, boom) {
			sawBoom++
		}
	}
	require.Equal(t, 1, sawBoom, "the last arrival gets the action's error")
	require.True(t, b.Broken())
}

func TestBarrierPanickingActionBreaksItAndPanics(t *testing.T) {
	b, err := NewBarrier(newSeg(t), "b", 1, func() error { panic("boom") })
	require.NoError(t, err)
	require.PanicsWithValue(t, "boom", func() { _, _ = b.Wait() })
	require.True(t, b.Broken())
}

// lock_tests.py test_abort: one party aborts, the others get
// ErrBrokenBarrier, and so does every later Wait until Reset.
func TestBarrierAbortBreaksItForEveryone(t *testing.T) {
	b, err := NewBarrier(newSeg(t), "b", 3, nil)
	require.NoError(t, err)
	_, errs := runParties(2, func(i int) (int, error) {
		if i == 0 {
			// Abort once the other has arrived: the barrier's own count says so.
			for b.NWaiting() < 1 && !b.Broken() {
				time.Sleep(time.Millisecond)
			}
			b.Abort()
			return 0, nil
		}
		return b.Wait()
	})
	require.ErrorIs(t, errs[1], ErrBrokenBarrier)
	require.True(t, b.Broken())
	_, err = b.Wait()
	require.ErrorIs(t, err, ErrBrokenBarrier)
	b.Reset()
	require.False(t, b.Broken())
	_, errs = runParties(3, func(int) (int, error) { return b.Wait() })
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// lock_tests.py test_reset: waiters of the current round get
// ErrBrokenBarrier; the barrier is usable again at once.
func TestBarrierResetBreaksCurrentWaitersOnly(t *testing.T) {
	b, err := NewBarrier(newSeg(t), "b", 3, nil)
	require.NoError(t, err)
	_, errs := runParties(3, func(i int) (int, error) {
		if i == 0 {
			for b.NWaiting() < 2 {
				time.Sleep(time.Millisecond)
			}
			b.Reset()
			return 0, nil
		}
		return b.Wait()
	})
	require.ErrorIs(t, errs[1], ErrBrokenBarrier)
	require.ErrorIs(t, errs[2], ErrBrokenBarrier)
	require.False(t, b.Broken())
	_, errs = runParties(3, func(int) (int, error) { return b.Wait() })
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// lock_tests.py test_timeout: a waiter that times out breaks the barrier
// for the others.
func TestBarrierTimeoutBreaksItForEveryone(t *testing.T) {
	b, err := NewBarrier(newSeg(t), "b", 3, nil)
	require.NoError(t, err)
	_, errs := runParties(2, func(i int) (int, error) {
		if i == 0 {
			return b.WaitTimeout(20 * time.Millisecond)
		}
		return b.Wait()
	})
	require.ErrorIs(t, errs[0], ErrBrokenBarrier)
	require.ErrorIs(t, errs[0], ErrTimeout)
	require.ErrorIs(t, errs[1], ErrBrokenBarrier)
	require.True(t, b.Broken())

	b.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = b.WaitContext(ctx)
	require.ErrorIs(t, err, ErrBrokenBarrier)
	require.ErrorIs(t, err, context.Canceled)
}

func TestBarrierSingleParty(t *testing.T) {
	b, err := NewBarrier(newSeg(t), "b", 1, nil)
	require.NoError(t, err)
	for range 3 {
		i, err := b.Wait()
		require.NoError(t, err)
		require.Equal(t, 0, i)
	}
}

func TestBarrierDeadMemberBreaksTheRound(t *testing.T) {
	seg := newSeg(t)
	b, err := NewBarrier(seg, "b", 2, nil)
	require.NoError(t, err)
	// A member that waited in an earlier round and is now dead.
	atomic.StoreUint64(&b.members[5].ID, deadTag(seg))
	start := time.Now()
	_, err = b.WaitTimeout(time.Minute)
	require.ErrorIs(t, err, ErrBrokenBarrier)
	require.ErrorContains(t, err, "died")
	require.Less(t, time.Since(start), 10*time.Second)
	require.Equal(t, uint64(0), atomic.LoadUint64(&b.members[5].ID), "the dead member is forgotten")

	obj, err := seg.Lookup("b")
	require.NoError(t, err)
	st, err := InspectBarrier(obj)
	require.NoError(t, err)
	require.True(t, st.Broken)
	require.Len(t, st.Members, 1)
	require.Equal(t, seg.Self(), st.Members[0].ID)
	b.Reset()
	b.Leave()
	st, err = InspectBarrier(obj)
	require.NoError(t, err)
	require.Empty(t, st.Members)
}

// Review defect 4: the last arrival of a round killed after its arrival
// CAS and before recording that it runs the action. Every party has
// arrived (count == parties), nobody is recorded as the runner, and the
// runner's member entry has no arrival for this round: a caller waiting
// for the next round must find it dead and break the round, not wait on it
// forever.
func TestBarrierRunnerKilledBeforeRecordingItselfBreaksTheRound(t *testing.T) {
	seg := newSeg(t)
	b, err := NewBarrier(seg, "b", 2, nil)
	require.NoError(t, err)
	atomic.StoreUint64(b.state, 2) // round 0, both parties arrived
	atomic.StoreUint64(&b.members[3].ID, deadTag(seg))
	_, err = b.WaitTimeout(30 * time.Second) // a safety net: "died", not a timeout, is expected
	require.ErrorIs(t, err, ErrBrokenBarrier)
	require.ErrorContains(t, err, "died")
	require.Zero(t, atomic.LoadUint64(&b.members[3].ID), "the dead member is forgotten")
}

// A runner that recorded itself for the round and died running the action
// is found by its ID; one recorded for another round is not taken for this
// round's runner.
func TestBarrierRunnerRecordedForTheRoundIsCheckedByID(t *testing.T) {
	seg := newSeg(t)
	b, err := NewBarrier(seg, "b", 2, nil)
	require.NoError(t, err)
	atomic.StoreUint64(b.state, 2)
	atomic.StoreUint64(b.actionBy, deadTag(seg)) // round 0
	_, err = b.WaitTimeout(30 * time.Second)
	require.ErrorIs(t, err, ErrBrokenBarrier)
	require.ErrorContains(t, err, "died")
	b.Reset()

	// Round 1 in progress; the record is round 0's: nothing is dead, and
	// the caller times out waiting for the (live, slow) runner.
	atomic.StoreUint64(b.state, uint64(1)<<barGenShift|2)
	atomic.StoreUint64(b.actionBy, deadTag(seg))
	_, err = b.WaitTimeout(300 * time.Millisecond)
	require.ErrorIs(t, err, ErrTimeout)
}

func TestBarrierHandlesShareRounds(t *testing.T) {
	seg := newSeg(t)
	var runs atomic.Int32
	b, err := NewBarrier(seg, "b", 2, nil)
	require.NoError(t, err)
	o, err := OpenBarrier(seg, "b", func() error { runs.Add(1); return nil })
	require.NoError(t, err)
	_, errs := runParties(2, func(i int) (int, error) {
		if i == 0 {
			return b.Wait()
		}
		return o.Wait()
	})
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.LessOrEqual(t, runs.Load(), int32(1), "only the handle with an action runs one")
	_, err = OpenBarrier(seg, "nope", nil)
	require.ErrorIs(t, err, shm.ErrNotFound)
}
