package semaphore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// Cross-process tests: the test binary re-executed as children through
// procs. Children synchronize with the parent through the primitives
// themselves (an Event set when a child is ready), never through sleeps.

func TestMain(m *testing.M) { testutil.Main(m) }

// joinWait bounds every Join: a safety net, not a measurement.
const joinWait = 60 * time.Second

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

	// foreignUnlock tries to unlock locks this process does not hold.
	foreignUnlock = procs.Register("semaphore-foreign-unlock", func(a holdArg) (string, error) {
		var out []string
		if err := a.Mu.Unlock(); errors.Is(err, ErrNotOwner) {
			out = append(out, "mutex:not-owner")
		}
		if err := a.Mu.MarkConsistent(); errors.Is(err, ErrNotOwner) {
			out = append(out, "mark:not-owner")
		}
		if err := a.RL.Unlock(NewOwner()); errors.Is(err, ErrNotOwner) {
			out = append(out, "rlock:not-owner")
		}
		if err := a.Mu.TryLock(); errors.Is(err, ErrWouldBlock) {
			out = append(out, "trylock:would-block")
		}
		return strings.Join(out, " "), nil
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
		ps = append(ps, testutil.Start(t, lockedIncrements, counterArg{Seg: seg, Mu: mu, N: m}))
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
	t.Cleanup(func() { _ = seg.Detach(); _ = shm.Unlink(name) })
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	counter := rawObject(t, seg, "counter", 8).Uint64(0)
	a := testutil.Start(t, lockedIncrements, counterArg{Seg: seg, Mu: mu, N: 3000})
	b := testutil.Start(t, lockedIncrements, counterArg{Seg: seg, Mu: mu, N: 3000})
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
	p := testutil.Start(t, holdUntilKilled, arg)
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
	require.Equal(t, "ok", joinResult[string](t, testutil.Start(t, lockReport, lockArg{Mu: mu})))
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
	require.Equal(t, "not-recoverable", joinResult[string](t, testutil.Start(t, lockReport, lockArg{Mu: mu})))
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
		waiter = testutil.Start(t, lockReport, lockArg{Mu: mu})
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

// _test_multiprocessing.py test_notify_n, across processes.
func TestCrossProcessUnlockByAnotherProcessIsNotOwner(t *testing.T) {
	seg := newSeg(t)
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	rl, err := NewRLock(seg, "rl")
	require.NoError(t, err)
	o := NewOwner()
	require.NoError(t, mu.Lock())
	require.NoError(t, rl.Lock(o))
	got := joinResult[string](t, testutil.Start(t, foreignUnlock, holdArg{Mu: mu, RL: rl}))
	require.Equal(t, "mutex:not-owner mark:not-owner rlock:not-owner trylock:would-block", got)
	require.True(t, mu.HeldBySelf())
	require.NoError(t, mu.Unlock())
	require.NoError(t, rl.Unlock(o))
}

// openLockHold opens the named segment (it gets no handles: the parent is
// not attached while it runs), locks the mutex and waits to be killed.
var openLockHold = procs.Register("semaphore-open-lock-hold", func(name string) (int, error) {
	seg, err := shm.Open(name)
	if err != nil {
		return 0, err
	}
	mu, err := OpenMutex(seg, "mu")
	if err != nil {
		return 0, err
	}
	if err := mu.Lock(); err != nil {
		return 0, err
	}
	testutil.BlockForever()
	return 0, nil
})

// The review's first reproduction, with the public API: a process killed
// holding a lock, then more attaches of its participant entry than the old
// 10-bit generation could count (a one-entry table: every Open of this
// process takes that entry, the dead holder's). The dead holder's lock
// must never be taken for this process's: its Unlock fails and it does
// not hold it, at every attach; and the next Lock gets ErrOwnerDead.
func TestCrossProcessDeadHoldersLockSurvivesItsEntryBeingReusedPastTheOldWrap(t *testing.T) {
	name := testutil.Name(t)
	seg, err := shm.Create(name, 1<<16, shm.WithParticipants(1))
	require.NoError(t, err)
	t.Cleanup(func() { _ = shm.Unlink(name) })
	_, err = NewMutex(seg, "mu")
	require.NoError(t, err)
	require.NoError(t, seg.Detach()) // the table's one entry is the child's to take

	p := testutil.Start(t, openLockHold, name)
	view, err := shm.OpenView(name)
	require.NoError(t, err)
	defer view.Detach()
	obj, err := view.Lookup("mu")
	require.NoError(t, err)
	testutil.WaitChild(t, p, func() bool { st, err := InspectMutex(obj); return err == nil && st.Locked })
	killJoin(t, p)

	for i := range 1100 {
		s, err := shm.Open(name)
		require.NoError(t, err, "attach %d", i)
		mu, err := OpenMutex(s, "mu")
		require.NoError(t, err)
		require.False(t, mu.HeldBySelf(), "attach %d holds the dead holder's lock", i)
		require.ErrorIs(t, mu.Unlock(), ErrNotOwner, "attach %d", i)
		require.False(t, mu.State().HolderAlive, "attach %d: the dead holder looks alive", i)
		require.NoError(t, s.Detach())
	}
	s, err := shm.Open(name)
	require.NoError(t, err)
	defer s.Detach()
	mu, err := OpenMutex(s, "mu")
	require.NoError(t, err)
	require.ErrorIs(t, mu.Lock(), ErrOwnerDead)
	require.NoError(t, mu.MarkConsistent())
	require.NoError(t, mu.Unlock())
}
