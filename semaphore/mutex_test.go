package semaphore

import (
	"bytes"
	"context"
	"encoding/gob"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

func TestMutexZeroMemoryIsUnlockedAndConsistent(t *testing.T) {
	seg := newSeg(t)
	obj := rawObject(t, seg, "obj", 2*MutexSize)
	m := MutexAt(obj, MutexSize, "embedded")
	require.False(t, m.Locked())
	st := m.State()
	require.True(t, st.Consistent)
	require.True(t, st.Recoverable)
	require.NoError(t, m.TryLock())
	require.True(t, m.HeldBySelf())
	require.NoError(t, m.Unlock())
	require.Equal(t, uint32(0), *obj.Uint32(MutexSize), "unlock leaves zero memory")
}

func TestMutexAtPanicsOnBadOffset(t *testing.T) {
	seg := newSeg(t)
	obj := rawObject(t, seg, "obj", 2*MutexSize)
	require.Panics(t, func() { MutexAt(obj, 4, "x") })
	require.Panics(t, func() { MutexAt(obj, 2*MutexSize, "x") })
}

func TestMutexNewOpenShareTheWord(t *testing.T) {
	seg := newSeg(t)
	a, err := NewMutex(seg, "m")
	require.NoError(t, err)
	b, err := OpenMutex(seg, "m")
	require.NoError(t, err)
	require.NoError(t, a.Lock())
	require.ErrorIs(t, b.TryLock(), ErrWouldBlock)
	require.NoError(t, b.Unlock(), "same process: any handle may unlock")
	require.NoError(t, b.TryLock())
	require.NoError(t, a.Unlock())

	_, err = NewMutex(seg, "m")
	require.ErrorIs(t, err, shm.ErrExists)
	_, err = OpenMutex(seg, "nope")
	require.ErrorIs(t, err, shm.ErrNotFound)
	_, err = seg.Create(shm.Spec{Name: "s", Kind: shm.KindSemaphore, Size: 64}, nil)
	require.NoError(t, err)
	_, err = OpenMutex(seg, "s")
	require.ErrorIs(t, err, shm.ErrKindMismatch)
}

func TestMutexUnlockUnlockedFails(t *testing.T) {
	m, err := NewMutex(newSeg(t), "m")
	require.NoError(t, err)
	require.ErrorIs(t, m.Unlock(), ErrUnlocked)
	require.NoError(t, m.Lock())
	require.NoError(t, m.Unlock())
	require.ErrorIs(t, m.Unlock(), ErrUnlocked)
}

func TestMutexGoroutinesIncrementExactly(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	obj := rawObject(t, seg, "counter", 8)
	counter := obj.Uint64(0)
	const workers, iters = 8, 2000
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range iters {
				if err := m.Lock(); err != nil {
					t.Error(err)
					return
				}
				// A non-atomic read-modify-write: only the lock makes it exact.
				v := atomic.LoadUint64(counter)
				atomic.StoreUint64(counter, v+1)
				if err := m.Unlock(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, uint64(workers*iters), *counter)
	require.False(t, m.Locked())
}

func TestMutexLockTimeoutReturnsPromptly(t *testing.T) {
	m, err := NewMutex(newSeg(t), "m")
	require.NoError(t, err)
	require.NoError(t, m.Lock())
	start := time.Now()
	err = m.LockTimeout(30 * time.Millisecond)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, Acquired(err))
	require.Less(t, time.Since(start), 10*time.Second)
	require.ErrorIs(t, m.LockTimeout(0), ErrTimeout)
	require.True(t, m.HeldBySelf(), "a failed lock leaves the holder")
	require.NoError(t, m.Unlock())
	require.NoError(t, m.LockTimeout(time.Second))
	require.NoError(t, m.Unlock())
}

func TestMutexLockContextCancelReturnsPromptly(t *testing.T) {
	m, err := NewMutex(newSeg(t), "m")
	require.NoError(t, err)
	require.NoError(t, m.Lock())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.LockContext(ctx) }()
	// Cancel whether the goroutine is spinning, parked or not yet started.
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("LockContext did not return after cancel")
	}
	require.NoError(t, m.Unlock())
	require.NoError(t, m.LockContext(ctx), "a done context fails only a contended lock (as x/sync's semaphore)")
	require.NoError(t, m.Unlock())
}

func TestMutexParkedWaiterIsWokenByUnlock(t *testing.T) {
	m, err := NewMutex(newSeg(t), "m")
	require.NoError(t, err)
	require.NoError(t, m.Lock())
	got := make(chan error, 1)
	go func() { got <- m.Lock() }()
	// Wait until the waiter has announced its sleep: the waiters bit.
	require.Eventually(t, func() bool { return m.State().Waiters }, 10*time.Second, time.Millisecond)
	require.NoError(t, m.Unlock())
	require.NoError(t, <-got)
	require.True(t, m.State().Waiters, "a woken waiter takes the lock with the waiters bit")
	require.NoError(t, m.Unlock())
	require.False(t, m.Locked())
}

func TestMutexDeadHolderLockGetsErrOwnerDead(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	atomic.StoreUint64(m.word, deadTag(seg)) // as if a dead process held it
	require.False(t, m.State().HolderAlive)

	err = m.LockTimeout(10 * time.Second)
	require.ErrorIs(t, err, ErrOwnerDead)
	require.True(t, Acquired(err))
	require.True(t, m.HeldBySelf())
	require.False(t, m.State().Consistent)
	require.NoError(t, m.MarkConsistent())
	require.True(t, m.State().Consistent)
	require.NoError(t, m.Unlock())
	require.NoError(t, m.Lock(), "recovered mutex is usable")
	require.NoError(t, m.Unlock())
}

func TestMutexTryLockTakesOverDeadHolder(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	atomic.StoreUint64(m.word, deadTag(seg)|mutexWaiters)
	err = m.TryLock()
	require.ErrorIs(t, err, ErrOwnerDead)
	require.True(t, m.State().Waiters, "takeover keeps the waiters bit")
	require.NoError(t, m.MarkConsistent())
	require.NoError(t, m.Unlock())
}

func TestMutexUnlockWithoutMarkConsistentIsNotRecoverable(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	atomic.StoreUint64(m.word, deadTag(seg))

	// A waiter parked behind the dead holder, and one parked behind the
	// new holder, both learn the outcome.
	require.ErrorIs(t, m.Lock(), ErrOwnerDead)
	other := make(chan error, 1)
	go func() { other <- m.Lock() }()
	require.Eventually(t, func() bool { return m.State().Waiters }, 10*time.Second, time.Millisecond)
	require.NoError(t, m.Unlock(), "glibc: the unlock itself succeeds")
	require.ErrorIs(t, <-other, ErrNotRecoverable)
	require.ErrorIs(t, m.Lock(), ErrNotRecoverable)
	require.ErrorIs(t, m.TryLock(), ErrNotRecoverable)
	require.ErrorIs(t, m.LockTimeout(time.Millisecond), ErrNotRecoverable)
	require.ErrorIs(t, m.Unlock(), ErrNotRecoverable)
	require.False(t, m.State().Recoverable)
}

func TestMutexWaiterParkedOnDeadHolderWakesWithinBoundedTime(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	atomic.StoreUint64(m.word, deadTag(seg))
	start := time.Now()
	err = m.Lock()
	require.ErrorIs(t, err, ErrOwnerDead)
	// Generous: the bound is about ownerCheckEvery, but the machine is loaded.
	require.Less(t, time.Since(start), 10*time.Second)
	require.NoError(t, m.MarkConsistent())
	require.NoError(t, m.Unlock())
}

func TestMutexUnlockByOtherProcessIsNotOwner(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	atomic.StoreUint64(m.word, deadTag(seg))
	require.ErrorIs(t, m.Unlock(), ErrNotOwner)
	require.ErrorIs(t, m.MarkConsistent(), ErrNotOwner)
}

func TestMutexCorruptWordIsAnErrorNotAPanic(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	atomic.StoreUint64(m.word, 1<<60)
	for _, err := range []error{m.Lock(), m.TryLock(), m.LockTimeout(time.Millisecond), m.Unlock(), m.MarkConsistent()} {
		require.ErrorIs(t, err, shm.ErrCorrupt)
	}
	require.True(t, m.State().Corrupt)
}

func TestMutexGobRoundTripSharesTheWord(t *testing.T) {
	seg := newSeg(t)
	obj := rawObject(t, seg, "host", 3*MutexSize)
	for _, m := range []*Mutex{must(NewMutex(seg, "named")), MutexAt(obj, 2*MutexSize, "embedded")} {
		var buf bytes.Buffer
		require.NoError(t, gob.NewEncoder(&buf).Encode(m))
		var back *Mutex
		require.NoError(t, gob.NewDecoder(&buf).Decode(&back))
		require.NoError(t, m.Lock())
		require.ErrorIs(t, back.TryLock(), ErrWouldBlock)
		require.NoError(t, back.Unlock())
		require.NoError(t, back.Detach())
	}
}

func TestInspectMutexReadsWithoutChanging(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	obj, err := seg.Lookup("m")
	require.NoError(t, err)
	st, err := InspectMutex(obj)
	require.NoError(t, err)
	require.False(t, st.Locked)
	require.Equal(t, "unlocked", st.String())
	require.NoError(t, m.Lock())
	st, err = InspectMutex(obj)
	require.NoError(t, err)
	require.True(t, st.Locked && st.HolderAlive && st.Consistent)
	require.Equal(t, seg.Self(), st.Holder)
	require.True(t, m.HeldBySelf())
	_, err = InspectMutexAt(obj, 8)
	require.ErrorIs(t, err, ErrInvalid)
	require.NoError(t, m.Unlock())
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
