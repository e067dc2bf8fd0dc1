package semaphore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

func TestRLockReentersForItsOwner(t *testing.T) {
	seg := newSeg(t)
	r, err := NewRLock(seg, "r")
	require.NoError(t, err)
	o := NewOwner()
	for i := 1; i <= 3; i++ {
		require.NoError(t, r.Lock(o))
		require.Equal(t, i, r.Count(o))
	}
	require.NoError(t, r.TryLock(o))
	require.NoError(t, r.LockTimeout(o, 0))
	require.NoError(t, r.LockContext(context.Background(), o))
	require.Equal(t, 6, r.Count(o))
	for i := 6; i >= 1; i-- {
		require.True(t, r.HeldBy(o))
		require.NoError(t, r.Unlock(o))
	}
	require.False(t, r.HeldBy(o))
	require.False(t, r.State().Locked)
	require.ErrorIs(t, r.Unlock(o), ErrUnlocked)
}

func TestRLockOtherOwnerBlocksAndCannotRelease(t *testing.T) {
	r, err := NewRLock(newSeg(t), "r")
	require.NoError(t, err)
	a, b := NewOwner(), NewOwner()
	require.NoError(t, r.Lock(a))
	require.ErrorIs(t, r.TryLock(b), ErrWouldBlock)
	require.ErrorIs(t, r.LockTimeout(b, time.Millisecond), ErrTimeout)
	require.ErrorIs(t, r.Unlock(b), ErrNotOwner, "Python: release by a non-owner is an error")
	require.ErrorIs(t, r.MarkConsistent(b), ErrNotOwner)
	require.ErrorIs(t, r.Lock(0), ErrInvalid)

	got := make(chan error, 1)
	go func() {
		err := r.Lock(b) // waits for a
		if err == nil {
			err = r.Unlock(b)
		}
		got <- err
	}()
	require.NoError(t, r.Unlock(a))
	require.NoError(t, <-got)
}

func TestRLockGoroutinesIncrementExactly(t *testing.T) {
	seg := newSeg(t)
	r, err := NewRLock(seg, "r")
	require.NoError(t, err)
	counter := rawObject(t, seg, "counter", 8).Uint64(0)
	const workers, iters = 6, 1000
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			o := NewOwner()
			for range iters {
				if err := r.Lock(o); err != nil {
					t.Error(err)
					return
				}
				_ = r.Lock(o) // nested
				v := atomic.LoadUint64(counter)
				atomic.StoreUint64(counter, v+1)
				_ = r.Unlock(o)
				if err := r.Unlock(o); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, uint64(workers*iters), *counter)
}

func TestRLockDeadHolderGivesErrOwnerDeadAndResetsDepth(t *testing.T) {
	seg := newSeg(t)
	r, err := NewRLock(seg, "r")
	require.NoError(t, err)
	// A dead process held it three levels deep.
	atomic.StoreUint64(r.mu.word, deadTag(seg))
	atomic.StoreUint64(r.owner, 12345)
	atomic.StoreUint32(r.count, 3)
	o := NewOwner()
	require.ErrorIs(t, r.Lock(o), ErrOwnerDead)
	require.Equal(t, 1, r.Count(o))
	require.NoError(t, r.MarkConsistent(o))
	require.NoError(t, r.Unlock(o))
	require.NoError(t, r.Lock(o))
	require.NoError(t, r.Unlock(o))

	atomic.StoreUint64(r.mu.word, deadTag(seg))
	require.ErrorIs(t, r.TryLock(o), ErrOwnerDead)
	require.NoError(t, r.Unlock(o))
	require.ErrorIs(t, r.Lock(o), ErrNotRecoverable)
}

func TestRLockOpenAndInspect(t *testing.T) {
	seg := newSeg(t)
	r, err := NewRLock(seg, "r")
	require.NoError(t, err)
	r2, err := OpenRLock(seg, "r")
	require.NoError(t, err)
	o := NewOwner()
	require.NoError(t, r.Lock(o))
	require.NoError(t, r2.Lock(o), "the same owner re-enters through another handle")
	obj, err := seg.Lookup("r")
	require.NoError(t, err)
	st, err := InspectRLock(obj)
	require.NoError(t, err)
	require.Equal(t, o, st.Owner)
	require.Equal(t, uint32(2), st.Count)
	require.True(t, st.Locked)
	require.NoError(t, r2.Unlock(o))
	require.NoError(t, r.Unlock(o))
	_, err = OpenRLock(seg, "x")
	require.ErrorIs(t, err, shm.ErrNotFound)
}
