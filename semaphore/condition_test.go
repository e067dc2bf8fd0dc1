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

// condWaiting reads how many waiters hold live tickets.
func condWaiting(t *testing.T, seg *shm.Segment, name string) uint32 {
	obj, err := seg.Lookup(name)
	require.NoError(t, err)
	st, err := InspectCondition(obj)
	require.NoError(t, err)
	return st.Waiting
}

func newCond(t *testing.T) (*shm.Segment, *Mutex, *Condition) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	c, err := NewCondition(seg, "c", m)
	require.NoError(t, err)
	return seg, m, c
}

func TestConditionWaitOrNotifyWithoutLockFails(t *testing.T) {
	_, m, c := newCond(t)
	require.ErrorIs(t, c.Wait(), ErrNotOwner)
	require.ErrorIs(t, c.Notify(1), ErrNotOwner)
	require.ErrorIs(t, c.NotifyAll(), ErrNotOwner)
	require.Same(t, m, c.Mutex())
	require.Nil(t, c.RLock())
}

// lock_tests.py test_notify: notify(1) then notify(3) then notify_all
// release exactly that many waiters, oldest first.
func TestConditionNotifyNWakesExactlyN(t *testing.T) {
	seg, m, c := newCond(t)
	const n = 5
	order := make(chan int, n)
	for i := range n {
		require.NoError(t, m.Lock())
		go func() {
			// Waiter i takes its ticket under the lock; the next waiter is
			// started only once this one waits, so tickets go in order.
			if err := c.Wait(); err != nil {
				t.Error(err)
			}
			// Unlock before reporting: the segment goes away with the test.
			_ = m.Unlock()
			order <- i
		}()
		require.Eventually(t, func() bool {
			require.NoError(t, m.Lock())
			defer func() { _ = m.Unlock() }()
			return condWaiting(t, seg, "c") == uint32(i+1)
		}, 10*time.Second, time.Millisecond)
	}
	notify := func(k int) {
		require.NoError(t, m.Lock())
		require.NoError(t, c.Notify(k))
		require.NoError(t, m.Unlock())
	}
	notify(1)
	require.Equal(t, 0, <-order)
	require.Equal(t, uint32(4), condWaiting(t, seg, "c"))
	notify(3)
	got := map[int]bool{<-order: true, <-order: true, <-order: true}
	require.Equal(t, map[int]bool{1: true, 2: true, 3: true}, got)
	require.Equal(t, uint32(1), condWaiting(t, seg, "c"))
	require.NoError(t, m.Lock())
	require.NoError(t, c.NotifyAll())
	require.NoError(t, m.Unlock())
	require.Equal(t, 4, <-order)
	require.Equal(t, uint32(0), condWaiting(t, seg, "c"))
}

func TestConditionNotifyWithoutWaitersIsNotRemembered(t *testing.T) {
	seg, m, c := newCond(t)
	require.NoError(t, m.Lock())
	require.NoError(t, c.Notify(3))
	require.ErrorIs(t, c.WaitTimeout(10*time.Millisecond), ErrTimeout)
	require.True(t, m.HeldBySelf(), "Wait returns with the lock held")
	require.Equal(t, uint32(0), condWaiting(t, seg, "c"))
	require.NoError(t, m.Unlock())
}

func TestConditionTimedOutWaitersDoNotSwallowNotifications(t *testing.T) {
	seg, m, c := newCond(t)
	// Three waiters: the middle one gives up; a Notify(2) must reach the
	// other two, not be spent on the withdrawn ticket.
	ctx, cancel := context.WithCancel(context.Background())
	type res struct {
		i   int
		err error
	}
	out := make(chan res, 3)
	for i := range 3 {
		require.NoError(t, m.Lock())
		go func() {
			var err error
			if i == 1 {
				err = c.WaitContext(ctx)
			} else {
				err = c.Wait()
			}
			_ = m.Unlock()
			out <- res{i, err}
		}()
		require.Eventually(t, func() bool {
			require.NoError(t, m.Lock())
			defer func() { _ = m.Unlock() }()
			return condWaiting(t, seg, "c") == uint32(i+1)
		}, 10*time.Second, time.Millisecond)
	}
	cancel()
	r := <-out
	require.Equal(t, 1, r.i)
	require.ErrorIs(t, r.err, context.Canceled)
	require.Equal(t, uint32(2), condWaiting(t, seg, "c"))
	require.NoError(t, m.Lock())
	require.NoError(t, c.Notify(2))
	require.NoError(t, m.Unlock())
	a, b := <-out, <-out
	require.NoError(t, a.err)
	require.NoError(t, b.err)
	require.ElementsMatch(t, []int{0, 2}, []int{a.i, b.i})
}

// startWaiters starts len(ctxs) waiters on c, one after the other, so that
// waiter i holds ticket i; each reports its index and Wait's error.
func startWaiters(t *testing.T, seg *shm.Segment, m *Mutex, c *Condition, ctxs []context.Context) chan [2]any {
	out := make(chan [2]any, len(ctxs))
	for i, ctx := range ctxs {
		require.NoError(t, m.Lock())
		go func() {
			err := c.WaitContext(ctx)
			_ = m.Unlock()
			out <- [2]any{i, err}
		}()
		require.Eventually(t, func() bool {
			require.NoError(t, m.Lock())
			defer func() { _ = m.Unlock() }()
			return condWaiting(t, seg, "c") == uint32(i+1)
		}, 10*time.Second, time.Millisecond)
	}
	return out
}

func TestConditionNotifySkipsWithdrawnTickets(t *testing.T) {
	seg, m, c := newCond(t)
	ctxs := make([]context.Context, 5)
	cancels := make([]context.CancelFunc, 5)
	for i := range ctxs {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
		defer cancels[i]()
	}
	out := startWaiters(t, seg, m, c, ctxs)
	for _, i := range []int{1, 3} { // holes in the middle
		cancels[i]()
		r := <-out
		require.Equal(t, i, r[0])
		require.ErrorIs(t, r[1].(error), context.Canceled)
	}
	require.Equal(t, uint32(3), condWaiting(t, seg, "c"))
	require.NoError(t, m.Lock())
	require.NoError(t, c.Notify(2))
	require.NoError(t, m.Unlock())
	got := []any{(<-out)[0], (<-out)[0]}
	require.ElementsMatch(t, []any{0, 2}, got)
	require.NoError(t, m.Lock())
	require.NoError(t, c.Notify(1))
	require.NoError(t, m.Unlock())
	r := <-out
	require.Equal(t, 4, r[0])
	require.Nil(t, r[1])
	require.Equal(t, uint32(0), condWaiting(t, seg, "c"))
}

func TestConditionHoleTableOverflowWakesEveryoneInsteadOfLosingOne(t *testing.T) {
	seg, m, c := newCond(t)
	n := 2*condMaxHoles + 5
	ctxs := make([]context.Context, n)
	cancels := make([]context.CancelFunc, n)
	for i := range ctxs {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
		defer cancels[i]()
	}
	out := startWaiters(t, seg, m, c, ctxs)
	// Withdraw every odd ticket: more holes than the table holds.
	for i := 1; i < n-1; i += 2 {
		cancels[i]()
	}
	returned := map[int]error{}
	for len(returned) < n { // the overflow granted every live ticket
		r := <-out
		if r[1] == nil {
			returned[r[0].(int)] = nil
		} else {
			returned[r[0].(int)] = r[1].(error)
		}
	}
	for i, err := range returned {
		if i%2 == 1 && i < n-1 && err != nil {
			require.ErrorIs(t, err, context.Canceled)
		} else {
			require.NoError(t, err, "waiter %d", i)
		}
	}
	require.Equal(t, uint32(0), condWaiting(t, seg, "c"))
}

func TestConditionManyWithdrawnTicketsNeverLoseANotification(t *testing.T) {
	seg, m, c := newCond(t)
	// One patient waiter, then many that time out while it waits (more
	// than the hole table holds), then a Notify(1) must still reach it.
	patient := make(chan error, 1)
	require.NoError(t, m.Lock())
	go func() { err := c.Wait(); _ = m.Unlock(); patient <- err }()
	require.Eventually(t, func() bool {
		require.NoError(t, m.Lock())
		defer func() { _ = m.Unlock() }()
		return condWaiting(t, seg, "c") == 1
	}, 10*time.Second, time.Millisecond)
	var wg sync.WaitGroup
	for range 2 * condMaxHoles {
		wg.Go(func() {
			if err := m.Lock(); err != nil {
				t.Error(err)
				return
			}
			if err := c.WaitTimeout(time.Millisecond); err != nil && !errors.Is(err, ErrTimeout) {
				t.Error(err)
			}
			_ = m.Unlock()
		})
	}
	wg.Wait()
	select {
	case err := <-patient:
		// The hole table overflowed and granted everyone: a spurious wake-up.
		require.NoError(t, err)
	default:
		require.NoError(t, m.Lock())
		require.NoError(t, c.Notify(1))
		require.NoError(t, m.Unlock())
		require.NoError(t, <-patient)
	}
}

// A producer/consumer pair over a condition: no item is lost and nobody
// sleeps through a notification.
func TestConditionProducerConsumerNoLostWakeups(t *testing.T) {
	seg, m, c := newCond(t)
	box := rawObject(t, seg, "box", 16)
	items, total := box.Uint64(0), box.Uint64(8)
	const producers, consumers, each = 3, 3, 500
	var wg sync.WaitGroup
	for range producers {
		wg.Go(func() {
			for range each {
				_ = m.Lock()
				atomic.StoreUint64(items, atomic.LoadUint64(items)+1)
				_ = c.Notify(1)
				_ = m.Unlock()
			}
		})
	}
	var consumed atomic.Int64
	for range consumers {
		wg.Go(func() {
			for range each {
				_ = m.Lock()
				if err := c.WaitFor(func() bool { return atomic.LoadUint64(items) > 0 }); err != nil {
					t.Error(err)
				}
				atomic.StoreUint64(items, atomic.LoadUint64(items)-1)
				atomic.AddUint64(total, 1)
				_ = m.Unlock()
				consumed.Add(1)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(producers*each), consumed.Load())
	require.Equal(t, uint64(0), *items)
}

func TestConditionWaitForTimeoutReturnsPredicateVerdict(t *testing.T) {
	_, m, c := newCond(t)
	require.NoError(t, m.Lock())
	require.NoError(t, c.WaitForTimeout(time.Millisecond, func() bool { return true }))
	calls := 0
	err := c.WaitForTimeout(10*time.Millisecond, func() bool { calls++; return false })
	require.ErrorIs(t, err, ErrTimeout)
	require.GreaterOrEqual(t, calls, 2, "checked before and after the wait")
	flip := false
	require.NoError(t, c.WaitForTimeout(10*time.Millisecond, func() bool { r := flip; flip = true; return r }),
		"a predicate true at the timeout wins")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.WaitForContext(ctx, func() bool { return false }), context.Canceled)
	require.True(t, m.HeldBySelf())
	require.NoError(t, m.Unlock())
}

func TestConditionOverRLockRestoresDepth(t *testing.T) {
	seg := newSeg(t)
	r, err := NewRLock(seg, "r")
	require.NoError(t, err)
	c, err := NewCondition(seg, "c", r)
	require.NoError(t, err)
	o := NewOwner()
	require.NoError(t, r.Lock(o))
	require.NoError(t, r.Lock(o))
	done := make(chan error, 1)
	go func() {
		o2 := NewOwner()
		for {
			// Reach the lock only once the waiter released both levels.
			if err := r.Lock(o2); err != nil {
				done <- err
				return
			}
			err := c.Notify(1)
			_ = r.Unlock(o2)
			if err != nil || condWaiting(t, seg, "c") == 0 {
				done <- err
				return
			}
		}
	}()
	require.NoError(t, c.Wait())
	require.NoError(t, <-done)
	require.Equal(t, 2, r.Count(o))
	require.NoError(t, r.Unlock(o))
	require.NoError(t, r.Unlock(o))
	o2, err := OpenCondition(seg, "c")
	require.NoError(t, err)
	require.NotNil(t, o2.RLock())
}

func TestConditionWaitOnInconsistentLockAsksForRepair(t *testing.T) {
	seg, m, c := newCond(t)
	atomic.StoreUint64(m.word, deadTag(seg))
	require.ErrorIs(t, m.Lock(), ErrOwnerDead)
	require.ErrorIs(t, c.Wait(), ErrOwnerDead)
	require.True(t, m.HeldBySelf())
	require.NoError(t, c.Notify(1), "notify does not unlock: allowed")
	require.NoError(t, m.MarkConsistent())
	require.ErrorIs(t, c.WaitTimeout(time.Millisecond), ErrTimeout)
	require.NoError(t, m.Unlock())
}

func TestConditionOverEmbeddedMutexOpensByName(t *testing.T) {
	seg := newSeg(t)
	host := rawObject(t, seg, "host", 2*MutexSize)
	m := MutexAt(host, MutexSize, "host.lock")
	_, err := NewCondition(seg, "c", m)
	require.NoError(t, err)
	c, err := OpenCondition(seg, "c")
	require.NoError(t, err)
	require.NoError(t, m.Lock())
	require.True(t, c.Mutex().HeldBySelf(), "the reopened lock is the same word")
	require.NoError(t, c.Notify(1))
	require.NoError(t, m.Unlock())

	other := newSeg(t)
	om, err := NewMutex(other, "m")
	require.NoError(t, err)
	_, err = NewCondition(seg, "c2", om)
	require.ErrorIs(t, err, ErrInvalid, "the lock must live in the same segment")
	_, err = NewCondition(seg, "c3", nil)
	require.ErrorIs(t, err, ErrInvalid)
}
