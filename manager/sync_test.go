package manager

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMutexExcludesAndAnyoneMayUnlock(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	mu, err := NewMutex(m)
	require.NoError(t, err)
	require.NoError(t, mu.Lock())
	assert.ErrorIs(t, mu.TryLock(), ErrWouldBlock)
	assert.ErrorIs(t, mu.LockTimeout(time.Millisecond), ErrTimeout)
	locked, err := mu.Locked()
	require.NoError(t, err)
	assert.True(t, locked)
	require.NoError(t, mu.Unlock())
	assert.ErrorIs(t, mu.Unlock(), ErrUnlocked)

	// A counter under the lock from goroutines on two connections.
	v, err := NewValue(m, 0)
	require.NoError(t, err)
	mu2 := decodeAs[Mutex](t, mu)
	defer mu2.Detach()
	var wg sync.WaitGroup
	for g := range 4 {
		l := mu
		if g%2 == 1 {
			l = mu2
		}
		wg.Go(func() {
			for range 10 {
				require.NoError(t, l.Lock())
				x, err := v.Get()
				require.NoError(t, err)
				require.NoError(t, v.Set(x+1))
				require.NoError(t, l.Unlock())
			}
		})
	}
	wg.Wait()
	x, err := v.Get()
	require.NoError(t, err)
	assert.Equal(t, 40, x)
}

func TestRLockReentersForItsOwnerOnly(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	l, err := NewRLock(m)
	require.NoError(t, err)
	require.NoError(t, l.Lock())
	require.NoError(t, l.Lock())
	other := decodeAs[RLock](t, l) // a second proxy: a second owner
	defer other.Detach()
	assert.ErrorIs(t, other.TryLock(), ErrWouldBlock)
	assert.ErrorIs(t, other.Unlock(), ErrNotOwner)
	require.NoError(t, l.Unlock())
	assert.ErrorIs(t, other.TryLock(), ErrWouldBlock)
	require.NoError(t, l.Unlock())
	require.NoError(t, other.TryLock())
	require.NoError(t, other.Unlock())
}

func TestLockHeldByAClosedConnectionPassesWithErrOwnerDead(t *testing.T) {
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	l, err := NewMutex(m, Named("L"))
	require.NoError(t, err)
	holder := ts.connect(t)
	hl, err := NewMutex(holder, Named("L"))
	require.NoError(t, err)
	require.NoError(t, hl.Lock())
	errc := make(chan error, 1)
	go func() { errc <- l.Lock() }()
	srvWaiting(t, m, 1)
	require.NoError(t, holder.Close())
	err = <-errc
	assert.ErrorIs(t, err, ErrOwnerDead)
	assert.True(t, Acquired(err))
	require.NoError(t, l.Unlock())
	require.NoError(t, l.Lock(), "the owner-dead mark is reported once")
}

func TestConditionWaitNotify(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	lock, err := NewMutex(m)
	require.NoError(t, err)
	cv, err := NewCondition(m, lock)
	require.NoError(t, err)
	items, err := NewList[int](m)
	require.NoError(t, err)

	assert.ErrorIs(t, cv.Notify(1), ErrNotOwner)
	assert.ErrorIs(t, cv.Wait(), ErrNotOwner)

	// Consumer: a Condition decoded as another process would, locking
	// through itself. Whether it waits before or after the Notify, it
	// checks the predicate under the lock, so no ordering is needed.
	c2 := decodeAs[Condition](t, cv)
	defer c2.Detach()
	done := make(chan error, 1)
	go func() {
		if err := c2.Lock(); err != nil {
			done <- err
			return
		}
		err := c2.WaitFor(func() bool {
			n, err := items.Len()
			return err == nil && n > 0
		})
		if err == nil {
			err = c2.Unlock()
		}
		done <- err
	}()
	require.NoError(t, lock.Lock()) // through the Mutex the Condition was made on
	require.NoError(t, items.Append(1))
	require.NoError(t, cv.NotifyAll())
	require.NoError(t, lock.Unlock())
	require.NoError(t, <-done)
}

func TestConditionWaitTimeoutReturnsHoldingTheLock(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	cv, err := NewCondition(m, nil)
	require.NoError(t, err)
	require.NoError(t, cv.Lock())
	require.NoError(t, cv.Lock()) // its own RLock: reentrant
	assert.ErrorIs(t, cv.WaitTimeout(time.Millisecond), ErrTimeout)
	locked, err := cv.Locked()
	require.NoError(t, err)
	assert.True(t, locked)
	require.NoError(t, cv.Unlock())
	require.NoError(t, cv.Unlock(), "the depth came back too")
	assert.ErrorIs(t, cv.Unlock(), ErrUnlocked)
}

func TestSemaphoreAndBoundedSemaphore(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	s, err := NewSemaphore(m, 1)
	require.NoError(t, err)
	require.NoError(t, s.Acquire())
	assert.ErrorIs(t, s.TryAcquire(), ErrWouldBlock)
	assert.ErrorIs(t, s.AcquireTimeout(time.Millisecond), ErrTimeout)
	require.NoError(t, s.ReleaseN(2))
	v, err := s.Value()
	require.NoError(t, err)
	assert.Equal(t, 2, v)

	b, err := NewBoundedSemaphore(m, 1)
	require.NoError(t, err)
	assert.ErrorIs(t, b.Release(), ErrBoundExceeded)
	require.NoError(t, b.Acquire())
	require.NoError(t, b.Release())
	b2 := decodeAs[Semaphore](t, b)
	defer b2.Detach()
	assert.ErrorIs(t, b2.Release(), ErrBoundExceeded, "decoded, it is still bounded")
}

func TestEventWakesWaiters(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	ev, err := NewEvent(m)
	require.NoError(t, err)
	assert.ErrorIs(t, ev.WaitTimeout(time.Millisecond), ErrTimeout)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { assert.NoError(t, ev.Wait()) })
	}
	srvWaiting(t, m, 3)
	require.NoError(t, ev.Set())
	wg.Wait()
	set, err := ev.IsSet()
	require.NoError(t, err)
	assert.True(t, set)
	require.NoError(t, ev.Clear())
	set, err = ev.IsSet()
	require.NoError(t, err)
	assert.False(t, set)
}

func TestBarrierReleasesAllAndBreaksOnTimeout(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	b, err := NewBarrier(m, 3)
	require.NoError(t, err)
	idx := make(chan int, 3)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			i, err := b.Wait()
			assert.NoError(t, err)
			idx <- i
		})
	}
	wg.Wait()
	close(idx)
	var got []int
	for i := range idx {
		got = append(got, i)
	}
	assert.ElementsMatch(t, []int{0, 1, 2}, got)

	// One waiter gives up: the other gets ErrBrokenBarrier, and so does
	// every Wait until Reset.
	errc := make(chan error, 1)
	go func() {
		_, err := b.Wait()
		errc <- err
	}()
	srvWaiting(t, m, 1)
	_, err = b.WaitTimeout(time.Millisecond)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, <-errc, ErrBrokenBarrier)
	_, err = b.Wait()
	assert.ErrorIs(t, err, ErrBrokenBarrier)
	parties, waiting, broken, err := b.State()
	require.NoError(t, err)
	assert.Equal(t, []any{3, 0, true}, []any{parties, waiting, broken})
	require.NoError(t, b.Reset())
	require.NoError(t, b.Abort())
	_, err = b.Wait()
	assert.ErrorIs(t, err, ErrBrokenBarrier)
}

// decodeAs round-trips a proxy through gob, as a child process would
// receive it: a second proxy, on a connection of its own.
func decodeAs[P any, PP interface {
	*P
	GobDecode([]byte) error
}](t *testing.T, enc interface{ GobEncode() ([]byte, error) }) *P {
	t.Helper()
	b, err := enc.GobEncode()
	require.NoError(t, err)
	p := PP(new(P))
	require.NoError(t, p.GobDecode(b))
	return (*P)(p)
}
