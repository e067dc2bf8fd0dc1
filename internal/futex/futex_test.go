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

func newGate() (futex.Gate, *[2]uint32) {
	words := new([2]uint32)
	return futex.NewGate(&words[0], &words[1]), words
}

func TestGateSignalWakesASleeper(t *testing.T) {
	g, _ := newGate()
	var ready atomic.Bool
	done := make(chan error)
	go func() {
		for !ready.Load() {
			if err := g.Wait(context.Background(), g.Load(), 20*time.Second); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	testutil.WaitUntil(t, func() bool { return g.Sleepers() == 1 })
	ready.Store(true)
	g.Signal(1)
	require.NoError(t, <-done)
	assert.Zero(t, g.Sleepers())
}

func TestGateWaitSeesAnEarlierSignal(t *testing.T) {
	g, _ := newGate()
	seq := g.Load()
	g.Signal(1) // nobody sleeps: no wake, but the sequence moves
	assert.NoError(t, g.Wait(context.Background(), seq, 20*time.Second), "must not sleep on a stale sequence")
}

func TestWaitContextReturnsPromptlyWhenCancelled(t *testing.T) {
	g, _ := newGate()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Wait(ctx, g.Load(), futex.Forever) }()
	testutil.WaitUntil(t, func() bool { return g.Sleepers() == 1 })
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(20 * time.Second):
		t.Fatal("cancellation did not end the wait")
	}
}

func TestWaitContextHonoursItsTimeout(t *testing.T) {
	g, _ := newGate()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := g.Wait(ctx, g.Load(), 5*time.Millisecond)
	assert.True(t, errors.Is(err, futex.ErrTimeout), "%v", err)
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel2()
	assert.ErrorIs(t, g.Wait(ctx2, g.Load(), futex.Forever), context.DeadlineExceeded)
}

// sleepOnGate sleeps on a gate in a shared segment until its sequence moves.
var sleepOnGate = procs.Register("futex-sleep-on-gate", func(s *shm.Segment) (uint32, error) {
	obj, err := s.Lookup("gate")
	if err != nil {
		return 0, err
	}
	g := futex.NewGate(obj.Uint32(0), obj.Uint32(64))
	seq := g.Load()
	for g.Load() == seq {
		if err := g.Wait(context.Background(), seq, 30*time.Second); err != nil {
			return 0, err
		}
	}
	return g.Load(), nil
})

func TestGateWakesASleeperInAnotherProcess(t *testing.T) {
	s, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer s.Detach()
	obj, err := s.Create(shm.Spec{Name: "gate", Kind: shm.KindBytes, Size: 128}, nil)
	require.NoError(t, err)
	g := futex.NewGate(obj.Uint32(0), obj.Uint32(64))
	p := testutil.Start(t, sleepOnGate, s)
	testutil.WaitChild(t, p, func() bool { return g.Sleepers() == 1 })
	g.Signal(1)
	require.NoError(t, p.Join())
	var seq uint32
	require.NoError(t, p.Result(&seq))
	assert.Equal(t, uint32(1), seq)
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
