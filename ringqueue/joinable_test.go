package ringqueue

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newJoinableT[T any](t testing.TB, o Options) *Joinable[T] {
	t.Helper()
	n, err := JoinableSize[T](o)
	require.NoError(t, err)
	j, err := NewJoinable[T](tqSeg(t, n+8192), "joinable", o)
	require.NoError(t, err)
	return j
}

// joinReturns runs join in a goroutine and reports its result, failing
// the test if it has not returned within the safety net.
func joinReturns(t *testing.T, join func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- join() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Join did not return")
		return nil
	}
}

// CPython test_queue: task_done() on a queue with no unfinished task
// raises ValueError.
func TestJoinableTaskDoneTooManyIsAnErrorAndChangesNothing(t *testing.T) {
	j := newJoinableT[int64](t, Options{Capacity: 4})
	err := j.TaskDone()
	assert.ErrorIs(t, err, ErrTaskDoneTooMany)
	require.NoError(t, j.Put(1))
	_, err = j.Get()
	require.NoError(t, err)
	require.NoError(t, j.TaskDone())
	assert.ErrorIs(t, j.TaskDone(), ErrTaskDoneTooMany)
	assert.Equal(t, 0, j.Unfinished())

	require.NoError(t, j.Put(2))
	require.NoError(t, j.Put(3))
	err = j.TaskDoneN(3)
	assert.ErrorIs(t, err, ErrTaskDoneTooMany)
	assert.Contains(t, err.Error(), "3 done, 2 unfinished")
	assert.Equal(t, 2, j.Unfinished(), "a refused TaskDoneN marks nothing")
	assert.ErrorIs(t, j.TaskDoneN(-1), ErrInvalid)
	require.NoError(t, j.TaskDoneN(0))
	require.NoError(t, j.TaskDoneN(2))
	assert.Equal(t, 0, j.Unfinished())
}

// CPython test_join_empty_queue: join() on a fresh queue returns at once
// (twice, for insurance).
func TestJoinableJoinOnFreshQueueReturnsAtOnce(t *testing.T) {
	j := newJoinableT[string](t, Options{Capacity: 4})
	require.NoError(t, j.Join())
	require.NoError(t, j.Join())
	require.NoError(t, j.JoinTimeout(0))
	require.NoError(t, j.JoinContext(context.Background()))
}

// CPython test_queue's queue_join_test: workers sum what they get and
// mark it done; join returns once all of it is summed.
func TestJoinableJoinReturnsAfterWorkersMarkEveryTaskDone(t *testing.T) {
	for _, enc := range []string{"raw", "gob"} {
		t.Run(enc, func(t *testing.T) {
			var put func(int) error
			var get func() (int, error)
			var j interface {
				TaskDone() error
				Join() error
				Unfinished() int
			}
			if enc == "raw" {
				q := newJoinableT[int64](t, Options{Capacity: 8})
				put = func(i int) error { return q.Put(int64(i)) }
				get = func() (int, error) { v, err := q.Get(); return int(v), err }
				j = q
			} else {
				q := newJoinableT[string](t, Options{Capacity: 8})
				put = func(i int) error { return q.Put(strings.Repeat("x", i)) }
				get = func() (int, error) { v, err := q.Get(); return len(v), err }
				j = q
			}
			var mu sync.Mutex
			sum := 0
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						v, err := get()
						if !assert.NoError(t, err) || v == 0 { // 0: stop
							return
						}
						mu.Lock()
						sum += v
						mu.Unlock()
						assert.NoError(t, j.TaskDone())
					}
				}()
			}
			for round := range 2 {
				for i := 1; i <= 100; i++ {
					require.NoError(t, put(i))
				}
				require.NoError(t, joinReturns(t, j.Join))
				mu.Lock()
				assert.Equal(t, (round+1)*5050, sum)
				mu.Unlock()
				assert.Equal(t, 0, j.Unfinished())
			}
			for range 2 {
				require.NoError(t, put(0))
			}
			wg.Wait()
		})
	}
}

func TestJoinableJoinTimeoutAndContextReportUnfinished(t *testing.T) {
	j := newJoinableT[int64](t, Options{Capacity: 4})
	require.NoError(t, j.Put(7))
	err := j.JoinTimeout(20 * time.Millisecond)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.Contains(t, err.Error(), "1 tasks unfinished")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, j.JoinContext(ctx), context.Canceled)

	ctx2, cancel2 := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- j.JoinContext(ctx2) }()
	cancel2() // ends the join whether it is asleep yet or not
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("JoinContext did not return after cancel")
	}
}

func TestJoinableBlockedJoinWakesOnLastTaskDone(t *testing.T) {
	j := newJoinableT[int64](t, Options{Capacity: 4})
	require.NoError(t, j.Put(1))
	require.NoError(t, j.Put(2))
	errc := make(chan error, 1)
	go func() { errc <- j.JoinTimeout(30 * time.Second) }()
	for range 2 {
		_, err := j.Get()
		require.NoError(t, err)
		require.NoError(t, j.TaskDone())
	}
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Join did not return after the last TaskDone")
	}
}

func TestJoinableFailedPutsAreNotCounted(t *testing.T) {
	j := newJoinableT[string](t, Options{Capacity: 2, SlotSize: 64})
	assert.ErrorIs(t, j.Put(strings.Repeat("x", 200)), ErrTooLarge)
	assert.Equal(t, 0, j.Unfinished())
	require.NoError(t, j.Put("a"))
	require.NoError(t, j.TryPut("b"))
	assert.ErrorIs(t, j.TryPut("c"), ErrFull)
	assert.ErrorIs(t, j.PutTimeout("c", 10*time.Millisecond), ErrTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, j.PutContext(ctx, "c"), context.Canceled)
	assert.Equal(t, 2, j.Unfinished())

	// Batches count what they put.
	_, err := j.Get()
	require.NoError(t, err)
	n, err := j.TryPutBatch([]string{"d", "e", "f"})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 3, j.Unfinished())
	n, err = j.PutBatchTimeout([]string{"g"}, 10*time.Millisecond)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.Equal(t, 0, n)
	assert.Equal(t, 3, j.Unfinished())

	// Close: puts fail uncounted, Join still waits for what was queued.
	require.NoError(t, j.Close())
	assert.ErrorIs(t, j.Put("h"), ErrClosed)
	n, err = j.PutBatchContext(context.Background(), []string{"i"})
	assert.ErrorIs(t, err, ErrClosed)
	assert.Equal(t, 0, n)
	assert.Equal(t, 3, j.Unfinished())
	assert.ErrorIs(t, j.JoinTimeout(10*time.Millisecond), ErrTimeout)
	dst := make([]string, 4)
	n, err = j.GetBatch(dst)
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "d"}, dst[:n])
	require.NoError(t, j.TaskDoneN(3))
	require.NoError(t, j.Join())
}

// When the count goes to zero because a put failed (not a TaskDone), a
// joiner still wakes: the in-flight put's count is simulated, so that the
// joiner is surely waiting on it.
func TestJoinableJoinWakesWhenAFailedPutUncountsToZero(t *testing.T) {
	j := newJoinableT[int64](t, Options{Capacity: 1})
	j.count(1) // a put in flight
	errc := make(chan error, 1)
	go func() { errc <- j.JoinTimeout(30 * time.Second) }()
	assert.ErrorIs(t, j.JoinTimeout(time.Millisecond), ErrTimeout)
	j.uncount(1) // ... that failed
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Join did not wake")
	}
}

// A TaskDone too many that lands while a put is in flight takes that put's
// count (it cannot know the put will fail); the failed put's uncount must
// then stop at zero, not wrap the count to nearly 2^64 (Join would never
// return again).
func TestJoinableFailedPutAfterATaskDoneTooManyKeepsTheCountAtZero(t *testing.T) {
	j := newJoinableT[int64](t, Options{Capacity: 1})
	require.NoError(t, j.Put(1))
	_, err := j.Get()
	require.NoError(t, err)
	require.NoError(t, j.TaskDone())
	j.count(1)                       // a put in flight, about to time out
	require.NoError(t, j.TaskDone()) // one too many, taking the in-flight count
	j.uncount(1)                     // the put timed out
	assert.Equal(t, 0, j.Unfinished())
	require.NoError(t, j.JoinTimeout(30*time.Second))
	assert.ErrorIs(t, j.TaskDone(), ErrTaskDoneTooMany)
}

func TestJoinableOpensOnlyAsJoinable(t *testing.T) {
	seg := tqSeg(t, 1<<20)
	j, err := NewJoinable[tqJob](seg, "jobs", Options{Capacity: 4})
	require.NoError(t, err)
	_, err = OpenTyped[tqJob](seg, "jobs")
	assert.ErrorIs(t, err, shm.ErrKindMismatch)
	_, err = Open(seg, "jobs")
	assert.ErrorIs(t, err, shm.ErrKindMismatch)
	_, err = OpenJoinable[tqPointSwapped](seg, "jobs")
	assert.ErrorIs(t, err, shm.ErrTypeMismatch)

	// Two handles share the count.
	k, err := OpenJoinable[tqJob](seg, "jobs")
	require.NoError(t, err)
	require.NoError(t, j.Put(jobFor(1, 1)))
	assert.Equal(t, 1, k.Unfinished())
	v, err := k.Get()
	require.NoError(t, err)
	assert.Equal(t, jobFor(1, 1), v)
	require.NoError(t, k.TaskDone())
	assert.Equal(t, 0, j.Unfinished())
	assert.ErrorIs(t, j.TaskDone(), ErrTaskDoneTooMany)
}
