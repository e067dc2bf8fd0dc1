package futex_test

import (
	"context"
	"errors"
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

func TestMain(m *testing.M) { testutil.Main(m) }

func TestWaitReturnsAtOnceWhenTheWordDiffers(t *testing.T) {
	var w uint32 = 1
	assert.NoError(t, futex.Wait(&w, 0, futex.Forever))
}

func TestWaitTimesOut(t *testing.T) {
	var w uint32
	assert.ErrorIs(t, futex.Wait(&w, 0, time.Millisecond), futex.ErrTimeout)
}

func TestWakeWithNobodyWaitingWakesNobody(t *testing.T) {
	var w uint32
	n, err := futex.Wake(&w, 1)
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = futex.Wake(&w, 0)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// words is a gate's two words and its idle count, as a test owns them.
type words struct {
	seq, sleepers uint32
	idle          atomic.Uint32
}

func newGate() (futex.Gate, *words) {
	w := new(words)
	return futex.NewGate(&w.seq, &w.sleepers, &w.idle), w
}

// flag is a condition a waiter waits for.
func flag(f *atomic.Bool) func() bool { return f.Load }

func TestGateSignalWakesASleeper(t *testing.T) {
	g, _ := newGate()
	var ready atomic.Bool
	done := make(chan error)
	go func() { done <- g.Await(futex.Block(), futex.Waiter{Policy: futex.Park, Ready: flag(&ready)}) }()
	testutil.WaitUntil(t, func() bool { return g.Sleepers() == 1 })
	ready.Store(true)
	g.Signal(1)
	require.NoError(t, <-done)
	assert.Zero(t, g.Sleepers())
}

func TestAwaitWithNoWaitChecksOnce(t *testing.T) {
	g, w := newGate()
	calls := 0
	err := g.Await(futex.NoWait(), futex.Waiter{Policy: futex.Brief, Ready: func() bool { calls++; return false }})
	assert.ErrorIs(t, err, futex.ErrWouldBlock)
	assert.Equal(t, 1, calls)
	assert.Zero(t, w.sleepers, "never registered")
	var ready atomic.Bool
	ready.Store(true)
	assert.NoError(t, g.Await(futex.NoWait(), futex.Waiter{Ready: flag(&ready)}))
}

func TestAwaitBoundExpires(t *testing.T) {
	for _, p := range []futex.Policy{futex.Brief, futex.Yield, futex.Spin, futex.Park} {
		g, _ := newGate()
		var never atomic.Bool
		start := time.Now()
		err := g.Await(futex.Within(20*time.Millisecond), futex.Waiter{Policy: p, Ready: flag(&never)})
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v: %v", p, err)
		assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "%v", p)
		assert.Zero(t, g.Sleepers(), "%v: unregistered", p)
	}
	g, _ := newGate()
	var never atomic.Bool
	assert.Error(t, g.Await(futex.Within(0), futex.Waiter{Ready: flag(&never)}), "an expired bound checks once and gives up")
}

func TestAwaitContextCancelEndsTheSleep(t *testing.T) {
	g, _ := newGate()
	ctx, cancel := context.WithCancel(context.Background())
	var never atomic.Bool
	done := make(chan error)
	go func() {
		done <- g.Await(futex.WithContext(ctx), futex.Waiter{Policy: futex.Park, Ready: flag(&never)})
	}()
	testutil.WaitUntil(t, func() bool { return g.Sleepers() == 1 })
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(20 * time.Second):
		t.Fatal("cancellation did not end the wait")
	}
	assert.Zero(t, g.Sleepers())
}

// The check hook runs while the caller is registered and can cap a sleep
// and ask for a re-check.
func TestAwaitCheckHookCapsSleepsAndRetries(t *testing.T) {
	g, _ := newGate()
	var ready atomic.Bool
	checks := 0
	err := g.Await(futex.Within(20*time.Second), futex.Waiter{Policy: futex.Park, Ready: flag(&ready),
		Check: func() (bool, time.Duration) {
			checks++
			assert.Equal(t, 1, g.Sleepers(), "registered while checking")
			if checks == 3 {
				ready.Store(true) // e.g. a dead holder taken over
				return true, 0
			}
			return false, time.Millisecond // nobody signals: only the cap ends the sleep
		}})
	require.NoError(t, err)
	assert.Equal(t, 3, checks)
}

// A sleeper that gives up after the sequence moved under it (a wake-up it
// may have absorbed) passes one wake-up on to the next sleeper.
func TestAwaitPassesOnAWakeItMayHaveAbsorbed(t *testing.T) {
	g, w := newGate()
	var bReady atomic.Bool
	var bLooks atomic.Int32
	bDone := make(chan error)
	go func() {
		bDone <- g.Await(futex.Block(), futex.Waiter{Policy: futex.Park,
			Ready: func() bool { bLooks.Add(1); return bReady.Load() }})
	}()
	testutil.WaitUntil(t, func() bool { return g.Sleepers() == 1 })
	looks := bLooks.Load()

	// A sleeps once, then (its deadline passed) a waker moves Seq while A
	// is registered: A cannot tell whether the wake was meant for it.
	deadline := time.Now().Add(200 * time.Millisecond)
	var seq0 uint32
	moved, checks := false, 0
	var never atomic.Bool
	err := g.Await(futex.Within(time.Until(deadline)), futex.Waiter{Policy: futex.Park, Ready: flag(&never),
		Check: func() (bool, time.Duration) {
			checks++
			if !moved && checks > 1 && time.Now().After(deadline) { // A has slept
				moved = true
				seq0 = atomic.AddUint32(&w.seq, 1)
			}
			return false, futex.Forever
		}})
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	require.True(t, moved, "the check ran after the deadline")
	assert.Equal(t, seq0+1, atomic.LoadUint32(&w.seq), "A passed a wake-up on")
	testutil.WaitUntil(t, func() bool { return bLooks.Load() > looks }, "B woke and looked")
	bReady.Store(true)
	g.Signal(1)
	require.NoError(t, <-bDone)
}

func TestSignalWithNobodyAsleepMakesNoWakeAndKeepsSeq(t *testing.T) {
	g, w := newGate()
	g.Signal(1)
	g.SignalAll()
	assert.Zero(t, w.seq, "no sleeper: Seq stays")
	assert.Zero(t, w.idle.Load())
}

// A sleeper killed asleep leaves its count; RepairAfter wakes that find
// nobody clear it in a new epoch.
func TestRepairAfterWakesThatFindNobody(t *testing.T) {
	g, w := newGate()
	assert.Zero(t, g.Register(), "epoch 0")
	for range futex.RepairAfter - 1 {
		g.Signal(1)
	}
	assert.Equal(t, 1, g.Sleepers(), "not yet")
	g.Signal(1)
	assert.Zero(t, g.Sleepers(), "repaired")
	assert.EqualValues(t, 1, futex.SleepersEpoch(w.sleepers), "in a new epoch")
	g.Unregister(0) // the dead sleeper's stale decrement would be ignored
	assert.EqualValues(t, 1<<16, w.sleepers)
}

// A broadcast that wakes a live sleeper but not the dead one counted
// beside it also counts toward a repair; the live one registers again.
func TestRepairByBroadcastsKeepsTheLiveSleeper(t *testing.T) {
	g, w := newGate()
	g.Register() // dead
	var ready atomic.Bool
	done := make(chan error)
	go func() { done <- g.Await(futex.Block(), futex.Waiter{Policy: futex.Park, Ready: flag(&ready)}) }()
	for i := 0; futex.SleepersEpoch(atomic.LoadUint32(&w.sleepers)) == 0; i++ {
		require.Less(t, i, 4*futex.RepairAfter, "no repair")
		testutil.WaitUntil(t, func() bool { return g.Sleepers() == 2 })
		g.SignalAll()
	}
	testutil.WaitUntil(t, func() bool { return g.Sleepers() == 1 }, "the live sleeper registered again")
	ready.Store(true)
	g.SignalAll()
	require.NoError(t, <-done)
	assert.Zero(t, g.Sleepers())
}

// sleepOnGate waits in another process until the word at 128 is set.
var sleepOnGate = procs.Register("futex-sleep-on-gate", func(s *shm.Segment) (uint32, error) {
	obj, err := s.Lookup("gate")
	if err != nil {
		return 0, err
	}
	g := futex.NewGate(obj.Uint32(0), obj.Uint32(64), new(atomic.Uint32))
	set := obj.Uint32(128)
	err = g.Await(futex.Within(30*time.Second), futex.Waiter{Policy: futex.Park,
		Ready: func() bool { return atomic.LoadUint32(set) != 0 }})
	return atomic.LoadUint32(set), err
})

func TestGateWakesASleeperInAnotherProcess(t *testing.T) {
	s, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer s.Detach()
	obj, err := s.Create(shm.Spec{Name: "gate", Kind: shm.KindBytes, Size: 192}, nil)
	require.NoError(t, err)
	g := futex.NewGate(obj.Uint32(0), obj.Uint32(64), new(atomic.Uint32))
	p := testutil.Start(t, sleepOnGate, s)
	testutil.WaitChild(t, p, func() bool { return g.Sleepers() == 1 })
	atomic.StoreUint32(obj.Uint32(128), 7)
	g.Signal(1)
	require.NoError(t, p.Join())
	var v uint32
	require.NoError(t, p.Result(&v))
	assert.Equal(t, uint32(7), v)
	assert.Zero(t, g.Sleepers())
}

func BenchmarkGateSignal(b *testing.B) {
	g, _ := newGate()
	b.Run("nobody-sleeps", func(b *testing.B) {
		for b.Loop() {
			g.Signal(1)
		}
	})
	var w uint32
	b.Run("bare-FUTEX_WAKE", func(b *testing.B) {
		for b.Loop() {
			_, _ = futex.Wake(&w, 1)
		}
	})
}
