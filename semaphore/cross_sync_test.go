package semaphore

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// Cross-process tests of conditions, barriers, semaphores and events
// (TestMain and the helpers are in cross_test.go).

type condArg struct {
	Seg  *shm.Segment
	Cond *Condition
	N    int
}

type barrierArg struct {
	Seg    *shm.Segment
	B      *Barrier
	Rounds int
	Never  *Event
}

type semArg struct {
	Seg *shm.Segment
	Sem *Semaphore
	N   int
}

var (
	// produce puts N items into the shared box, notifying one consumer each.
	produce = procs.Register("semaphore-produce", func(a condArg) (int, error) {
		obj, err := a.Seg.Lookup("box")
		if err != nil {
			return 0, err
		}
		items := obj.Uint64(0)
		mu := a.Cond.Mutex()
		for range a.N {
			if err := mu.Lock(); err != nil {
				return 0, err
			}
			atomic.StoreUint64(items, atomic.LoadUint64(items)+1)
			err := a.Cond.Notify(1)
			if uerr := mu.Unlock(); err == nil {
				err = uerr
			}
			if err != nil {
				return 0, err
			}
		}
		return a.N, nil
	})

	// consume takes N items out of the shared box, waiting for each.
	consume = procs.Register("semaphore-consume", func(a condArg) (int, error) {
		obj, err := a.Seg.Lookup("box")
		if err != nil {
			return 0, err
		}
		items := obj.Uint64(0)
		mu := a.Cond.Mutex()
		for range a.N {
			if err := mu.Lock(); err != nil {
				return 0, err
			}
			if err := a.Cond.WaitFor(func() bool { return atomic.LoadUint64(items) > 0 }); err != nil {
				return 0, err
			}
			atomic.StoreUint64(items, atomic.LoadUint64(items)-1)
			if err := mu.Unlock(); err != nil {
				return 0, err
			}
		}
		return a.N, nil
	})

	// barrierRounds waits Rounds times and returns its indices; its action
	// counts rounds in the shared "actions" word.
	barrierRounds = procs.Register("semaphore-barrier-rounds", func(a barrierArg) ([]int, error) {
		obj, err := a.Seg.Lookup("actions")
		if err != nil {
			return nil, err
		}
		a.B.SetAction(func() error { atomic.AddUint32(obj.Uint32(0), 1); return nil })
		var out []int
		for range a.Rounds {
			i, err := a.B.Wait()
			if err != nil {
				return out, err
			}
			out = append(out, i)
		}
		if a.Never != nil {
			return out, a.Never.Wait() // stay a member until killed
		}
		return out, nil
	})

	// barrierOnce waits once more and reports how it went.
	barrierOnce = procs.Register("semaphore-barrier-once", func(a barrierArg) (string, error) {
		_, err := a.B.Wait()
		if err == nil {
			return "released", nil
		}
		return err.Error(), nil
	})

	// semaphoreSection enters a section guarded by Sem N times and records
	// the most processes it saw inside at once.
	semaphoreSection = procs.Register("semaphore-section", func(a semArg) (uint32, error) {
		obj, err := a.Seg.Lookup("inside")
		if err != nil {
			return 0, err
		}
		inside := obj.Uint32(0)
		var most uint32
		for range a.N {
			if err := a.Sem.Acquire(); err != nil {
				return 0, err
			}
			most = max(most, atomic.AddUint32(inside, 1))
			atomic.AddUint32(inside, ^uint32(0))
			if err := a.Sem.Release(); err != nil {
				return 0, err
			}
		}
		return most, nil
	})

	// condWaitOnce waits once on the condition and counts itself woken.
	condWaitOnce = procs.Register("semaphore-cond-wait-once", func(a condArg) (int, error) {
		obj, err := a.Seg.Lookup("woken")
		if err != nil {
			return 0, err
		}
		mu := a.Cond.Mutex()
		if err := mu.Lock(); err != nil {
			return 0, err
		}
		err = a.Cond.Wait()
		atomic.AddUint32(obj.Uint32(0), 1)
		if uerr := mu.Unlock(); err == nil {
			err = uerr
		}
		return 0, err
	})

	// waitEvent waits for an event and then sets another.
	waitEvent = procs.Register("semaphore-wait-event", func(a holdArg) (int, error) {
		if err := a.Never.WaitTimeout(joinWait); err != nil {
			return 0, err
		}
		a.Ready.Set()
		return 0, nil
	})
)

func TestCrossProcessConditionProducersConsumersLoseNothing(t *testing.T) {
	seg := newSeg(t)
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	cond, err := NewCondition(seg, "cond", mu)
	require.NoError(t, err)
	items := rawObject(t, seg, "box", 8).Uint64(0)
	const each = 2000
	var ps []*procs.Process
	for range 2 {
		ps = append(ps, testutil.Start(t, consume, condArg{Seg: seg, Cond: cond, N: each}))
		ps = append(ps, testutil.Start(t, produce, condArg{Seg: seg, Cond: cond, N: each}))
	}
	for _, p := range ps {
		require.Equal(t, each, joinResult[int](t, p))
	}
	require.Equal(t, uint64(0), atomic.LoadUint64(items))
}

func TestCrossProcessBarrierRoundsWithAction(t *testing.T) {
	seg := newSeg(t)
	const parties, rounds = 3, 300
	b, err := NewBarrier(seg, "b", parties, nil)
	require.NoError(t, err)
	actions := rawObject(t, seg, "actions", 8).Uint32(0)
	var ps []*procs.Process
	for range parties {
		ps = append(ps, testutil.Start(t, barrierRounds, barrierArg{Seg: seg, B: b, Rounds: rounds}))
	}
	perRound := make([][]int, rounds)
	for _, p := range ps {
		idx := joinResult[[]int](t, p)
		require.Len(t, idx, rounds)
		for r, i := range idx {
			perRound[r] = append(perRound[r], i)
		}
	}
	for r := range rounds {
		require.ElementsMatch(t, []int{0, 1, 2}, perRound[r], "round %d", r)
	}
	require.Equal(t, uint32(rounds), atomic.LoadUint32(actions), "one action per round")
}

func TestCrossProcessBarrierDeadParticipantBreaksIt(t *testing.T) {
	seg := newSeg(t)
	b, err := NewBarrier(seg, "b", 3, nil)
	require.NoError(t, err)
	rawObject(t, seg, "actions", 8)
	never, err := NewEvent(seg, "never")
	require.NoError(t, err)
	// Round 1: the parent and two children; one child then stays around
	// as a member until it is killed.
	stay := testutil.Start(t, barrierRounds, barrierArg{Seg: seg, B: b, Rounds: 1, Never: never})
	other := testutil.Start(t, barrierRounds, barrierArg{Seg: seg, B: b, Rounds: 1})
	_, err = b.Wait()
	require.NoError(t, err)
	joinResult[[]int](t, other)
	killJoin(t, stay)
	// Round 2: a new child and the parent wait for the dead member.
	next := testutil.Start(t, barrierOnce, barrierArg{Seg: seg, B: b})
	start := time.Now()
	_, err = b.WaitTimeout(joinWait)
	require.ErrorIs(t, err, ErrBrokenBarrier)
	require.ErrorContains(t, err, "died")
	require.Less(t, time.Since(start), joinWait)
	require.Contains(t, joinResult[string](t, next), ErrBrokenBarrier.Error())
}

func TestCrossProcessBarrierAbortAndTimeout(t *testing.T) {
	seg := newSeg(t)
	b, err := NewBarrier(seg, "b", 3, nil)
	require.NoError(t, err)
	p := testutil.Start(t, barrierOnce, barrierArg{Seg: seg, B: b})
	require.Eventually(t, func() bool { return b.NWaiting() == 1 }, joinWait, time.Millisecond)
	b.Abort()
	require.Contains(t, joinResult[string](t, p), ErrBrokenBarrier.Error())

	b.Reset()
	p = testutil.Start(t, barrierOnce, barrierArg{Seg: seg, B: b})
	require.Eventually(t, func() bool { return b.NWaiting() == 1 }, joinWait, time.Millisecond)
	_, err = b.WaitTimeout(10 * time.Millisecond)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, ErrBrokenBarrier)
	require.Contains(t, joinResult[string](t, p), ErrBrokenBarrier.Error())
}

func TestCrossProcessBoundedSemaphoreBoundsConcurrency(t *testing.T) {
	seg := newSeg(t)
	sem, err := NewBoundedSemaphore(seg, "sem", 2)
	require.NoError(t, err)
	rawObject(t, seg, "inside", 8)
	var ps []*procs.Process
	for range 4 {
		ps = append(ps, testutil.Start(t, semaphoreSection, semArg{Seg: seg, Sem: sem, N: 3000}))
	}
	for _, p := range ps {
		require.LessOrEqual(t, joinResult[uint32](t, p), uint32(2))
	}
	require.Equal(t, 2, sem.Value())
	require.ErrorIs(t, sem.Release(), ErrBoundExceeded)
}

func TestCrossProcessEventWakesChildren(t *testing.T) {
	seg := newSeg(t)
	gate, err := NewEvent(seg, "gate")
	require.NoError(t, err)
	var done []*Event
	var ps []*procs.Process
	for i := range 3 {
		d, err := NewEvent(seg, fmt.Sprintf("done-%d", i))
		require.NoError(t, err)
		done = append(done, d)
		ps = append(ps, testutil.Start(t, waitEvent, holdArg{Ready: d, Never: gate}))
	}
	gate.Set()
	for i, p := range ps {
		require.NoError(t, done[i].WaitTimeout(joinWait))
		joinResult[int](t, p)
	}
}

func TestCrossProcessConditionNotifyNWakesExactlyN(t *testing.T) {
	seg := newSeg(t)
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	cond, err := NewCondition(seg, "cond", mu)
	require.NoError(t, err)
	woken := rawObject(t, seg, "woken", 8).Uint32(0)
	var ps []*procs.Process
	for range 4 {
		ps = append(ps, testutil.Start(t, condWaitOnce, condArg{Seg: seg, Cond: cond}))
	}
	waiting := func() uint32 { return condWaiting(t, seg, "cond") }
	require.Eventually(t, func() bool { return waiting() == 4 }, joinWait, time.Millisecond)
	notify := func(n int) {
		require.NoError(t, mu.Lock())
		require.NoError(t, cond.Notify(n))
		require.NoError(t, mu.Unlock())
	}
	notify(1)
	require.Eventually(t, func() bool { return atomic.LoadUint32(woken) == 1 }, joinWait, time.Millisecond)
	require.Equal(t, uint32(3), waiting())
	notify(2)
	require.Eventually(t, func() bool { return atomic.LoadUint32(woken) == 3 }, joinWait, time.Millisecond)
	require.Equal(t, uint32(1), waiting())
	require.NoError(t, mu.Lock())
	require.NoError(t, cond.NotifyAll())
	require.NoError(t, mu.Unlock())
	for _, p := range ps {
		joinResult[int](t, p)
	}
	require.Equal(t, uint32(4), atomic.LoadUint32(woken))
}
