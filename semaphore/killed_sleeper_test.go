package semaphore

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A process killed while asleep on a Semaphore, Event, Condition or
// Barrier leaves its count in the sleepers word. Every later signal would
// then pay a futex wake that finds nobody; instead, the wakes that find
// fewer sleepers than counted repair the count (futex.Gate) within
// futex.RepairAfter signals, after which the count is the live one again.

type sleeperArg struct {
	Sem  *Semaphore
	Ev   *Event
	Cond *Condition
	Bar  *Barrier
}

// sleepUntilKilled blocks on whichever primitive it is given, for good.
var sleepUntilKilled = procs.Register("semaphore-sleep-until-killed", func(a sleeperArg) (int, error) {
	switch {
	case a.Sem != nil:
		return 0, a.Sem.Acquire()
	case a.Ev != nil:
		return 0, a.Ev.Wait()
	case a.Cond != nil:
		if err := a.Cond.Mutex().Lock(); err != nil {
			return 0, err
		}
		return 0, a.Cond.Wait()
	case a.Bar != nil:
		_, err := a.Bar.Wait()
		return 0, err
	}
	return 0, errors.New("nothing to sleep on")
})

// killAsleep starts a child asleep on a's primitive, waits until sleepers()
// counts it, and kills it.
func killAsleep(t *testing.T, a sleeperArg, sleepers func() uint32) {
	t.Helper()
	p := testutil.Start(t, sleepUntilKilled, a)
	testutil.WaitChild(t, p, func() bool { return sleepers() == 1 })
	killJoin(t, p)
	require.EqualValues(t, 1, sleepers(), "the dead sleeper's count stays until a repair")
}

func lookup(t *testing.T, seg *shm.Segment, name string) shm.Object {
	t.Helper()
	obj, err := seg.Lookup(name)
	require.NoError(t, err)
	return obj
}

func TestCrossProcessKilledSemaphoreSleeperIsRepaired(t *testing.T) {
	seg := testutil.Anonymous(t, 1<<16)
	s, err := NewSemaphore(seg, "sem", 0)
	require.NoError(t, err)
	obj := lookup(t, seg, "sem")
	state := func() SemaphoreState { st, err := InspectSemaphore(obj); require.NoError(t, err); return st }
	killAsleep(t, sleeperArg{Sem: s}, func() uint32 { return state().Sleepers })
	n := 0
	for state().Sleepers != 0 {
		require.Less(t, n, futex.RepairAfter, "releases without a repair")
		require.NoError(t, s.Release())
		n++
	}
	assert.EqualValues(t, 1, state().Repairs)
	// The gate still works: a live sleeper is woken.
	for range n {
		require.NoError(t, s.TryAcquire())
	}
	done := make(chan error)
	go func() { done <- s.AcquireTimeout(30 * time.Second) }()
	testutil.WaitUntil(t, func() bool { return state().Sleepers == 1 })
	require.NoError(t, s.Release())
	require.NoError(t, <-done)
	assert.Zero(t, state().Sleepers)
}

func TestCrossProcessKilledEventSleeperIsRepaired(t *testing.T) {
	seg := testutil.Anonymous(t, 1<<16)
	e, err := NewEvent(seg, "ev")
	require.NoError(t, err)
	obj := lookup(t, seg, "ev")
	state := func() EventState { st, err := InspectEvent(obj); require.NoError(t, err); return st }
	killAsleep(t, sleeperArg{Ev: e}, func() uint32 { return state().Sleepers })
	n := 0
	for state().Sleepers != 0 {
		require.Less(t, n, futex.RepairAfter, "sets without a repair")
		e.Set()
		e.Clear()
		n++
	}
	assert.EqualValues(t, 1, state().Repairs)
}

// A Condition's notifies only wake when they grant a ticket, so a live
// waiter takes part: each broadcast wakes it but not the dead one.
func TestCrossProcessKilledConditionSleeperIsRepaired(t *testing.T) {
	seg := testutil.Anonymous(t, 1<<16)
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	c, err := NewCondition(seg, "cond", mu)
	require.NoError(t, err)
	obj := lookup(t, seg, "cond")
	state := func() ConditionState { st, err := InspectCondition(obj); require.NoError(t, err); return st }
	killAsleep(t, sleeperArg{Cond: c}, func() uint32 { return state().Sleepers })

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	var waitErr error
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if waitErr = mu.Lock(); waitErr != nil {
				return
			}
			waitErr = c.WaitTimeout(30 * time.Second)
			_ = mu.Unlock()
			if waitErr != nil {
				return
			}
		}
	}()
	n := 0
	for state().Repairs == 0 {
		require.Less(t, n, futex.RepairAfter+1, "notifies without a repair") // +1: the dead ticket's
		// A new ticket, then counted: the live waiter waits again (the
		// first round, beside the dead one's ticket).
		waiting := uint32(1)
		if n == 0 {
			waiting = 2
		}
		testutil.WaitUntil(t, func() bool { st := state(); return st.Waiting == waiting && st.Sleepers == 2 },
			"the live waiter asleep beside the dead one")
		require.NoError(t, mu.Lock())
		require.NoError(t, c.Notify(1))
		require.NoError(t, mu.Unlock())
		n++
	}
	testutil.WaitUntil(t, func() bool { return state().Sleepers == 1 }, "only the live waiter counted")
	require.NoError(t, mu.Lock())
	stop.Store(true)
	require.NoError(t, c.NotifyAll())
	require.NoError(t, mu.Unlock())
	wg.Wait()
	require.NoError(t, waitErr)
	assert.Zero(t, state().Sleepers)
}

func TestCrossProcessKilledBarrierSleeperIsRepaired(t *testing.T) {
	seg := testutil.Anonymous(t, 1<<16)
	b, err := NewBarrier(seg, "bar", 2, nil)
	require.NoError(t, err)
	obj := lookup(t, seg, "bar")
	state := func() BarrierState { st, err := InspectBarrier(obj); require.NoError(t, err); return st }
	killAsleep(t, sleeperArg{Bar: b}, func() uint32 { return state().Sleepers })

	// Round 1 ends with this arrival; every later round needs two live
	// parties. A round the dead member's absence breaks is reset.
	n := 0
	for state().Repairs == 0 {
		require.Less(t, n, 2*futex.RepairAfter, "rounds without a repair")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		parties := 2
		if n == 0 {
			parties = 1
		}
		for i := range parties {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = b.WaitTimeout(30 * time.Second) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				require.ErrorIs(t, err, ErrBrokenBarrier)
				b.Reset()
			}
		}
		n++
	}
	assert.Zero(t, state().Sleepers, "nobody waits between rounds")
}
