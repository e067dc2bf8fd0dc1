package ringqueue

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/stretchr/testify/require"
)

// Timeouts and contexts are checked for returning the right error, and
// for returning at all (the test's own deadline is the safety net); how
// fast is a benchmark's business, not a test's.

func TestGetTimeoutOnEmptyIsTimeoutAndEmpty(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 2, SlotSize: 8, Mode: m})
		start := time.Now()
		_, err := q.GetTimeout(make([]byte, 8), 20*time.Millisecond)
		require.ErrorIs(t, err, ErrTimeout)
		require.ErrorIs(t, err, ErrEmpty)
		require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
		_, err = q.TakeTimeout(0)
		require.ErrorIs(t, err, ErrTimeout)
	}
}

func TestPutTimeoutOnFullIsTimeoutAndFull(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 1, SlotSize: 8, Mode: m})
		require.NoError(t, q.Put(nil))
		err := q.PutTimeout(nil, 20*time.Millisecond)
		require.ErrorIs(t, err, ErrTimeout)
		require.ErrorIs(t, err, ErrFull)
		_, err = q.ReserveTimeout(1, 0)
		require.ErrorIs(t, err, ErrTimeout)
		n, err := q.PutBatchTimeout([][]byte{{1}}, time.Millisecond)
		require.ErrorIs(t, err, ErrTimeout)
		require.Zero(t, n)
	}
}

func TestCancelledContextEndsBlockedGetAndPut(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 1, SlotSize: 8, Mode: m})
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, 1)
		go func() {
			_, err := q.GetContext(ctx, make([]byte, 8))
			errs <- err
		}()
		waitFor(t, "getter asleep", func() bool { return q.getGate().sleepersNow() == 1 })
		cancel()
		err := <-errs
		require.ErrorIs(t, err, context.Canceled)

		// Already cancelled: returns at once, even with nothing to wait for... except
		// that an operation that can complete at once still may.
		_, err = q.GetContext(ctx, make([]byte, 8))
		require.ErrorIs(t, err, context.Canceled)

		require.NoError(t, q.Put(nil))
		ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel2()
		err = q.PutContext(ctx2, nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		_, err = q.GetBatchContext(ctx, 4, func([]byte) {})
		require.NoError(t, err, "a message is ready: no wait, no context check")
	}
}

func TestParkedConsumerIsWokenByPut(t *testing.T) {
	for _, m := range modes {
		for _, p := range []WaitPolicy{WaitPaced, WaitYield, WaitSpin, WaitPark} {
			q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: m})
			q.SetWaitPolicy(p)
			got := make(chan string, 1)
			go func() {
				buf := make([]byte, 8)
				n, err := q.Get(buf)
				if err != nil {
					got <- err.Error()
				}
				got <- string(buf[:n])
			}()
			waitFor(t, "consumer asleep", func() bool { return q.getGate().sleepersNow() == 1 })
			require.NoError(t, q.Put([]byte("wake")))
			require.Equal(t, "wake", <-got)
		}
	}
}

func TestParkedProducerIsWokenByGet(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 1, SlotSize: 8, Mode: m})
		require.NoError(t, q.Put([]byte("1")))
		done := make(chan error, 1)
		go func() { done <- q.Put([]byte("2")) }()
		waitFor(t, "producer asleep", func() bool { return q.putGate().sleepersNow() == 1 })
		buf := make([]byte, 8)
		n, err := q.Get(buf)
		require.NoError(t, err)
		require.Equal(t, "1", string(buf[:n]))
		require.NoError(t, <-done)
		n, err = q.Get(buf)
		require.NoError(t, err)
		require.Equal(t, "2", string(buf[:n]))
	}
}

func TestCloseWakesEveryBlockedGoroutine(t *testing.T) {
	q := newQueue(t, Options{Capacity: 1, SlotSize: 8})
	full := newQueue(t, Options{Capacity: 1, SlotSize: 8})
	require.NoError(t, full.Put(nil))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); _, err := q.Get(make([]byte, 8)); errs <- err }()
		go func() { defer wg.Done(); errs <- full.Put(nil) }()
	}
	waitFor(t, "all asleep", func() bool {
		return q.getGate().sleepersNow() == 4 && full.putGate().sleepersNow() == 4
	})
	require.NoError(t, q.Close())
	require.NoError(t, full.Close())
	wg.Wait()
	close(errs)
	for err := range errs {
		require.ErrorIs(t, err, ErrClosed)
	}
}

func TestCloseLetsConsumersDrainThenErrClosed(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: m})
		require.NoError(t, q.Put([]byte("a")))
		require.NoError(t, q.Put([]byte("b")))
		require.NoError(t, q.Close())
		require.NoError(t, q.Close(), "idempotent")
		require.True(t, q.Closed())
		require.ErrorIs(t, q.Put([]byte("c")), ErrClosed)
		require.ErrorIs(t, q.TryPut([]byte("c")), ErrClosed)
		_, err := q.Reserve(1)
		require.ErrorIs(t, err, ErrClosed)
		buf := make([]byte, 8)
		for _, want := range []string{"a", "b"} {
			n, err := q.Get(buf)
			require.NoError(t, err)
			require.Equal(t, want, string(buf[:n]))
		}
		_, err = q.Get(buf)
		require.ErrorIs(t, err, ErrClosed)
		_, err = q.TryGet(buf)
		require.ErrorIs(t, err, ErrClosed)
		_, err = q.GetBatch(4, func([]byte) {})
		require.ErrorIs(t, err, ErrClosed)
	}
}

// Close racing with producers: every Put that returned nil is delivered,
// every other failed with ErrClosed, and consumers see ErrClosed only after
// the last delivered message.
func TestCloseRacingWithPutsLosesNoAcceptedMessage(t *testing.T) {
	for _, m := range modes {
		for round := 0; round < 20; round++ {
			q := newQueue(t, Options{Capacity: 8, SlotSize: 8, Mode: m})
			producers := 3
			if m == SPSC {
				producers = 1
			}
			var accepted sync.WaitGroup
			counts := make([]int, producers)
			for p := 0; p < producers; p++ {
				accepted.Add(1)
				go func() {
					defer accepted.Done()
					for i := 0; ; i++ {
						err := q.Put([]byte{byte(p)})
						if errors.Is(err, ErrClosed) {
							return
						}
						if err != nil {
							panic(err)
						}
						counts[p]++
					}
				}()
			}
			got := make(chan int)
			var end error
			go func() {
				n := 0
				buf := make([]byte, 8)
				for {
					if _, err := q.Get(buf); err != nil {
						end = err
						got <- n
						return
					}
					n++
				}
			}()
			waitFor(t, "some traffic", func() bool { return q.Len() > 0 || q.getGate().sleepersNow() > 0 })
			require.NoError(t, q.Close())
			accepted.Wait()
			total := 0
			for _, c := range counts {
				total += c
			}
			require.Equal(t, total, <-got, "%s round %d: consumer ended with %v", m, round, end)
			require.ErrorIs(t, end, ErrClosed)
		}
	}
}

// A sleeper killed while asleep leaves its count behind; wakers that keep
// finding nobody repair the count, after which signals make no system
// call again.
func TestDeadSleepersCountIsRepairedByWakers(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: m})
		g := q.getGate()
		g.register() // a consumer that died asleep
		g.register()
		require.Equal(t, 2, g.sleepersNow())
		buf := make([]byte, 8)
		for i := 0; i < repairAfter; i++ {
			require.NoError(t, q.Put([]byte("x")))
			_, err := q.Get(buf)
			require.NoError(t, err)
		}
		require.Zero(t, g.sleepersNow(), "repaired")
		require.EqualValues(t, 1, atomic.LoadUint32(g.sleepers)>>16, "in a new epoch")
	}
}

// A repair while a live consumer sleeps wakes it; it registers again and is
// woken by the next put.
func TestRepairDoesNotLoseALiveSleeper(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 8})
	g := q.getGate()
	got := make(chan error, 1)
	go func() { _, err := q.Get(make([]byte, 8)); got <- err }()
	waitFor(t, "consumer asleep", func() bool { return g.sleepersNow() == 1 })
	g.repair()
	waitFor(t, "consumer asleep again", func() bool { return g.sleepersNow() == 1 })
	require.NoError(t, q.Put([]byte("x")))
	require.NoError(t, <-got)
	require.Zero(t, g.sleepersNow())
}

// TestWaitPolicyMapsToFutex: a handle paces unless told otherwise
// (futex/spin.go has the measurements), a policy set explicitly is what
// it says, and an unknown one is the default.
func TestWaitPolicyMapsToFutex(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 2, SlotSize: 8, Mode: m})
		require.Equal(t, futex.Paced, q.waitPolicy())
		for p, want := range map[WaitPolicy]futex.Policy{
			WaitPaced: futex.Paced, WaitYield: futex.Yield, WaitSpin: futex.Spin, WaitPark: futex.Park, WaitPolicy(42): futex.Paced,
		} {
			q.SetWaitPolicy(p)
			require.Equal(t, want, q.waitPolicy(), "%v", p)
		}
	}
	require.Equal(t, "paced", WaitPaced.String())
	require.Equal(t, "spin", WaitSpin.String())
	require.Equal(t, "WaitPolicy(42)", WaitPolicy(42).String())
}
