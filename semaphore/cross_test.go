package semaphore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// Cross-process tests: the test binary re-executed as children through
// procs. Children synchronize with the parent through the primitives
// themselves (an Event set when a child is ready), never through sleeps.

func TestMain(m *testing.M) {
	procs.Main()
	code := m.Run()
	if left := procs.ActiveChildren(); len(left) > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "semaphore tests left %d children running\n", len(left))
		code = 1
	}
	os.Exit(code)
}

// joinWait bounds every Join: a safety net, not a measurement.
const joinWait = 60 * time.Second

// start starts a child and makes sure it is gone when the test ends.
func start[A, R any](t *testing.T, f *procs.Func[A, R], arg A) *procs.Process {
	t.Helper()
	p, err := procs.Start(f, arg)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = p.Kill()
		_ = p.JoinTimeout(joinWait)
	})
	return p
}

func joinResult[R any](t *testing.T, p *procs.Process) R {
	t.Helper()
	require.NoError(t, p.JoinTimeout(joinWait))
	r, err := procs.Result[R](p)
	require.NoError(t, err)
	return r
}

// killJoin kills a child and waits until it is reaped, so that its
// participant slot reads as dead.
func killJoin(t *testing.T, p *procs.Process) {
	t.Helper()
	require.NoError(t, p.Kill())
	err := p.JoinTimeout(joinWait)
	var ee *procs.ExitError
	require.ErrorAs(t, err, &ee, "a killed child exits with an error")
}

type counterArg struct {
	Seg *shm.Segment
	Mu  *Mutex
	N   int
}

type holdArg struct {
	Mu    *Mutex
	RL    *RLock
	Ready *Event
	Never *Event
}

type lockArg struct {
	Mu *Mutex
}

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
	// lockedIncrements adds N to the shared counter, one locked,
	// non-atomic increment at a time.
	lockedIncrements = procs.Register("semaphore-locked-increments", func(a counterArg) (int, error) {
		obj, err := a.Seg.Lookup("counter")
		if err != nil {
			return 0, err
		}
		c := obj.Uint64(0)
		for range a.N {
			if err := a.Mu.Lock(); err != nil {
				return 0, err
			}
			v := atomic.LoadUint64(c)
			atomic.StoreUint64(c, v+1)
			if err := a.Mu.Unlock(); err != nil {
				return 0, err
			}
		}
		return a.N, nil
	})

	// holdUntilKilled locks (the Mutex, or the RLock twice), says so
	// through Ready, and waits on an event nobody sets.
	holdUntilKilled = procs.Register("semaphore-hold-until-killed", func(a holdArg) (int, error) {
		if a.Mu != nil {
			if err := a.Mu.Lock(); err != nil {
				return 0, err
			}
		}
		if a.RL != nil {
			o := NewOwner()
			if err := a.RL.Lock(o); err != nil {
				return 0, err
			}
			if err := a.RL.Lock(o); err != nil {
				return 0, err
			}
		}
		a.Ready.Set()
		return 0, a.Never.Wait()
	})

	// lockReport locks and reports what Lock returned, then unlocks if it
	// holds the lock and the lock is consistent.
	lockReport = procs.Register("semaphore-lock-report", func(a lockArg) (string, error) {
		err := a.Mu.Lock()
		switch {
		case err == nil:
			return "ok", a.Mu.Unlock()
		case errors.Is(err, ErrOwnerDead):
			if err := a.Mu.MarkConsistent(); err != nil {
				return "", err
			}
			return "owner-dead", a.Mu.Unlock()
		case errors.Is(err, ErrNotRecoverable):
			return "not-recoverable", nil
		}
		return "", err
	})

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

	// waitEvent waits for an event and then sets another.
	waitEvent = procs.Register("semaphore-wait-event", func(a holdArg) (int, error) {
		if err := a.Never.WaitTimeout(joinWait); err != nil {
			return 0, err
		}
		a.Ready.Set()
		return 0, nil
	})
)

func TestCrossProcessLockedIncrementsAreExact(t *testing.T) {
	seg := newSeg(t)
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	counter := rawObject(t, seg, "counter", 8).Uint64(0)
	const n, m = 4, 5000
	var ps []*procs.Process
	for range n {
		ps = append(ps, start(t, lockedIncrements, counterArg{Seg: seg, Mu: mu, N: m}))
	}
	for _, p := range ps {
		require.Equal(t, m, joinResult[int](t, p))
	}
	require.Equal(t, uint64(n*m), atomic.LoadUint64(counter))
	require.False(t, mu.Locked())
}

// The same over a named segment that each child opens by name.
func TestCrossProcessNamedSegmentMutex(t *testing.T) {
	name := fmt.Sprintf("semaphore-test-%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), os.Getpid())
	seg, err := shm.Create(name, 1<<16)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Close(); _ = shm.Unlink(name) })
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	counter := rawObject(t, seg, "counter", 8).Uint64(0)
	a := start(t, lockedIncrements, counterArg{Seg: seg, Mu: mu, N: 3000})
	b := start(t, lockedIncrements, counterArg{Seg: seg, Mu: mu, N: 3000})
	for range 3000 {
		require.NoError(t, mu.Lock())
		atomic.StoreUint64(counter, atomic.LoadUint64(counter)+1)
		require.NoError(t, mu.Unlock())
	}
	joinResult[int](t, a)
	joinResult[int](t, b)
	require.Equal(t, uint64(9000), atomic.LoadUint64(counter))
}

// holdAndKill starts a child that takes the lock, waits until it holds it,
// and kills it.
func holdAndKill(t *testing.T, seg *shm.Segment, arg holdArg, waitersFirst func()) {
	t.Helper()
	var err error
	arg.Ready, err = NewEvent(seg, fmt.Sprintf("ready-%d", time.Now().UnixNano()))
	require.NoError(t, err)
	arg.Never, err = NewEvent(seg, fmt.Sprintf("never-%d", time.Now().UnixNano()))
	require.NoError(t, err)
	p := start(t, holdUntilKilled, arg)
	require.NoError(t, arg.Ready.WaitTimeout(joinWait))
	if waitersFirst != nil {
		waitersFirst()
	}
	killJoin(t, p)
}

func TestCrossProcessHolderKilledNextLockerGetsErrOwnerDead(t *testing.T) {
	seg := newSeg(t)
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	holdAndKill(t, seg, holdArg{Mu: mu}, nil)
	st := mu.State()
	require.True(t, st.Locked)
	require.False(t, st.HolderAlive)

	err = mu.Lock()
	require.ErrorIs(t, err, ErrOwnerDead)
	require.NoError(t, mu.MarkConsistent())
	require.NoError(t, mu.Unlock())
	// Recovered: another process locks it normally.
	require.Equal(t, "ok", joinResult[string](t, start(t, lockReport, lockArg{Mu: mu})))
}

func TestCrossProcessTryLockTakesOverFromKilledHolder(t *testing.T) {
	seg := newSeg(t)
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	holdAndKill(t, seg, holdArg{Mu: mu}, nil)
	require.ErrorIs(t, mu.TryLock(), ErrOwnerDead)
	// Unlock without MarkConsistent: unusable for everyone, in every process.
	require.NoError(t, mu.Unlock())
	require.ErrorIs(t, mu.Lock(), ErrNotRecoverable)
	require.Equal(t, "not-recoverable", joinResult[string](t, start(t, lockReport, lockArg{Mu: mu})))
}

func TestCrossProcessWaiterParkedOnKilledHolderWakesInBoundedTime(t *testing.T) {
	seg := newSeg(t)
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	var waiter *procs.Process
	local := make(chan error, 1)
	var killed time.Time
	holdAndKill(t, seg, holdArg{Mu: mu}, func() {
		// One waiter in another process, one here; kill once both sleep.
		waiter = start(t, lockReport, lockArg{Mu: mu})
		go func() { local <- mu.Lock() }()
		require.Eventually(t, func() bool {
			obj, _ := seg.Lookup("mu")
			st, _ := InspectMutex(obj)
			return st.Waiters
		}, joinWait, time.Millisecond)
		killed = time.Now()
	})
	// Exactly one of the two takes the lock over; the other then gets it
	// normally (the child marks it consistent, so the order does not matter).
	err = <-local
	took := time.Since(killed)
	if errors.Is(err, ErrOwnerDead) {
		require.NoError(t, mu.MarkConsistent())
	} else {
		require.NoError(t, err)
	}
	require.NoError(t, mu.Unlock())
	got := joinResult[string](t, waiter)
	require.Contains(t, []string{"ok", "owner-dead"}, got)
	require.Less(t, took, joinWait)
	t.Logf("parked waiter had the lock %v after the holder was killed", took)
}

func TestCrossProcessRLockHolderKilled(t *testing.T) {
	seg := newSeg(t)
	rl, err := NewRLock(seg, "rl")
	require.NoError(t, err)
	holdAndKill(t, seg, holdArg{RL: rl}, nil)
	require.Equal(t, uint32(2), rl.State().Count)
	o := NewOwner()
	require.ErrorIs(t, rl.LockTimeout(o, joinWait), ErrOwnerDead)
	require.Equal(t, 1, rl.Count(o), "the dead holder's depth is gone")
	require.NoError(t, rl.MarkConsistent(o))
	require.NoError(t, rl.Unlock(o))
	require.False(t, rl.State().Locked)
}

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
		ps = append(ps, start(t, consume, condArg{Seg: seg, Cond: cond, N: each}))
		ps = append(ps, start(t, produce, condArg{Seg: seg, Cond: cond, N: each}))
	}
	for _, p := range ps {
		require.Equal(t, each, joinResult[int](t, p))
	}
	require.Equal(t, uint64(0), atomic.LoadUint64(items))
}

func TestCrossProcessBarrierRoundsWithAction(t *testing.T) {
	seg := newSeg(t)
	const parties, rounds = 3, 20
	b, err := NewBarrier(seg, "b", parties, nil)
	require.NoError(t, err)
	actions := rawObject(t, seg, "actions", 8).Uint32(0)
	var ps []*procs.Process
	for range parties {
		ps = append(ps, start(t, barrierRounds, barrierArg{Seg: seg, B: b, Rounds: rounds}))
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
	stay := start(t, barrierRounds, barrierArg{Seg: seg, B: b, Rounds: 1, Never: never})
	other := start(t, barrierRounds, barrierArg{Seg: seg, B: b, Rounds: 1})
	_, err = b.Wait()
	require.NoError(t, err)
	joinResult[[]int](t, other)
	killJoin(t, stay)
	// Round 2: a new child and the parent wait for the dead member.
	next := start(t, barrierOnce, barrierArg{Seg: seg, B: b})
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
	p := start(t, barrierOnce, barrierArg{Seg: seg, B: b})
	require.Eventually(t, func() bool { return b.NWaiting() == 1 }, joinWait, time.Millisecond)
	b.Abort()
	require.Contains(t, joinResult[string](t, p), ErrBrokenBarrier.Error())

	b.Reset()
	p = start(t, barrierOnce, barrierArg{Seg: seg, B: b})
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
		ps = append(ps, start(t, semaphoreSection, semArg{Seg: seg, Sem: sem, N: 3000}))
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
		ps = append(ps, start(t, waitEvent, holdArg{Ready: d, Never: gate}))
	}
	gate.Set()
	for i, p := range ps {
		require.NoError(t, done[i].WaitTimeout(joinWait))
		joinResult[int](t, p)
	}
}
