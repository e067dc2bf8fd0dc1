package procs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type point struct{ X, Y int32 } // fixed-size: crosses as raw bytes

type record struct { // not fixed-size: crosses by gob
	Name string
	Tags []string
}

var (
	double  = procs.Register("pool-double", func(x int) (int, error) { return 2 * x, nil })
	upper   = procs.Register("pool-upper", func(s string) (string, error) { return strings.ToUpper(s), nil })
	reverse = procs.Register("pool-reverse", func(b []byte) ([]byte, error) {
		out := slices.Clone(b)
		slices.Reverse(out)
		return out, nil
	})
	swap    = procs.Register("pool-swap", func(p point) (point, error) { return point{p.Y, p.X}, nil })
	tagged  = procs.Register("pool-tag", func(r record) (record, error) { r.Tags = append(r.Tags, "seen"); return r, nil })
	oddFail = procs.Register("pool-odd-fails", func(x int) (int, error) {
		if x%2 == 1 {
			return 0, fmt.Errorf("odd input %d", x)
		}
		return x, nil
	})
	panicky = procs.Register("pool-panics", func(x int) (int, error) {
		if x == 3 {
			panic("three is right out")
		}
		return x, nil
	})
	pid    = procs.Register("pool-pid", func(struct{}) (int, error) { return os.Getpid(), nil })
	sleepy = procs.Register("pool-sleep", func(d time.Duration) (int, error) { time.Sleep(d); return 0, nil })
	power  = procs.Register2("pool-power", func(base, exp int) (int, error) {
		r := 1
		for range exp {
			r *= base
		}
		return r, nil
	})

	// The initializer stores a value each task of the worker then sees.
	initValue  atomic.Int64
	setInit    = procs.Register("pool-set-init", func(v int64) (struct{}, error) { initValue.Store(v); return struct{}{}, nil })
	readInit   = procs.Register("pool-read-init", func(struct{}) (int64, error) { return initValue.Load(), nil })
	failedInit = procs.Register("pool-init-fails", func(string) (struct{}, error) { return struct{}{}, errors.New("no database") })

	// A queue handed to every worker by the initializer, from an
	// anonymous segment: only a Start-like export can get it there.
	reports    *ringqueue.Typed[int64]
	setReports = procs.Register("pool-set-reports", func(q *ringqueue.Typed[int64]) (struct{}, error) {
		reports = q
		return struct{}{}, nil
	})
	report = procs.Register("pool-report", func(x int64) (struct{}, error) { return struct{}{}, reports.Put(x) })
)

func newPool(t testing.TB, n int, opts ...procs.PoolOption) *procs.Pool {
	t.Helper()
	p, err := procs.NewPool(n, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Terminate()) })
	return p
}

func ints(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestPoolApplyReturnsTheResult(t *testing.T) {
	p := newPool(t, 2)
	r, err := procs.Apply(p, double, 21)
	require.NoError(t, err)
	assert.Equal(t, 42, r)
}

func TestPoolMapKeepsTheOrderForEveryChunkSize(t *testing.T) {
	p := newPool(t, 2)
	in := ints(1000)
	for _, chunk := range []int{0, 1, 7, 1000, 5000} {
		out, err := procs.Map(p, double, in, chunk)
		require.NoError(t, err, "chunk %d", chunk)
		for i, v := range out {
			require.Equal(t, 2*i, v, "chunk %d item %d", chunk, i)
		}
	}
	out, err := procs.Map(p, double, nil, 0)
	require.NoError(t, err)
	assert.Empty(t, out)
}

func TestPoolCarriesEveryKindOfType(t *testing.T) {
	p := newPool(t, 2)
	s, err := procs.Map(p, upper, []string{"a", "", "héllo"}, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "", "HÉLLO"}, s)
	b, err := procs.Map(p, reverse, [][]byte{[]byte("abc"), {}, []byte("xy")}, 2)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("cba"), {}, []byte("yx")}, b)
	pts, err := procs.Map(p, swap, []point{{1, 2}, {3, 4}}, 1)
	require.NoError(t, err)
	assert.Equal(t, []point{{2, 1}, {4, 3}}, pts)
	recs, err := procs.Map(p, tagged, []record{{"a", nil}, {"b", []string{"x"}}}, 2)
	require.NoError(t, err)
	assert.Equal(t, []record{{"a", []string{"seen"}}, {"b", []string{"x", "seen"}}}, recs)
}

func TestPoolFunctionErrorComesBackWithItsMessage(t *testing.T) {
	p := newPool(t, 2)
	_, err := procs.Apply(p, oddFail, 3)
	var te *procs.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "odd input 3", te.Message)
	assert.Equal(t, "pool-odd-fails", te.Func)
	assert.NotZero(t, te.Pid)
	assert.False(t, te.Panicked)

	out, err := procs.Map(p, oddFail, ints(10), 3)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "odd input 1", te.Message, "Map returns the first failed item's error")
	assert.Equal(t, []int{0, 0, 2, 0, 4, 0, 6, 0, 8, 0}, out, "and the results it has")
}

func TestPoolPanicComesBackAsTheTasksError(t *testing.T) {
	p := newPool(t, 1)
	_, err := procs.Apply(p, panicky, 3)
	assert.ErrorIs(t, err, procs.ErrTaskPanicked)
	var te *procs.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "three is right out", te.Message)
	assert.Contains(t, te.Stack, "goroutine")
	r, err := procs.Apply(p, panicky, 4)
	require.NoError(t, err, "the worker survives a panic")
	assert.Equal(t, 4, r)
}

func TestPoolImapYieldsInOrderWithPerItemErrors(t *testing.T) {
	p := newPool(t, 2)
	var got []int
	var errs int
	for r, err := range procs.Imap(p, oddFail, slices.Values(ints(50)), 1) {
		if err != nil {
			errs++
			continue
		}
		got = append(got, r)
	}
	assert.Equal(t, 25, errs)
	for i, v := range got {
		require.Equal(t, 2*i, v)
	}
}

func TestPoolImapUnorderedYieldsEveryResult(t *testing.T) {
	p := newPool(t, 2)
	var got []int
	for r, err := range procs.ImapUnordered(p, double, slices.Values(ints(200)), 3) {
		require.NoError(t, err)
		got = append(got, r)
	}
	sort.Ints(got)
	for i, v := range got {
		require.Equal(t, 2*i, v)
	}
}

func TestPoolImapStopsWhenTheLoopBreaks(t *testing.T) {
	p := newPool(t, 2)
	pulled := 0
	items := func(yield func(int) bool) {
		for i := 0; ; i++ { // endless: only the window is read ahead
			pulled++
			if !yield(i) {
				return
			}
		}
	}
	n := 0
	for r, err := range procs.Imap(p, double, items, 1) {
		require.NoError(t, err)
		require.Equal(t, 2*n, r)
		if n++; n == 20 {
			break
		}
	}
	assert.Less(t, pulled, 20+4*p.Size()+8, "items are read a bounded window ahead")
	r, err := procs.Apply(p, double, 1)
	require.NoError(t, err, "the pool goes on after an abandoned Imap")
	assert.Equal(t, 2, r)
}

func TestPoolApplyAsyncRunsCallbacksBeforeTheResultIsReady(t *testing.T) {
	p := newPool(t, 2)
	var got atomic.Int64
	r := procs.ApplyAsync(p, double, 5, procs.OnResult(func(v int) { got.Store(int64(v)) }))
	v, err := r.Get()
	require.NoError(t, err)
	assert.Equal(t, 10, v)
	assert.Equal(t, int64(10), got.Load())
	ok, err := r.Successful()
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, r.Ready())

	var gotErr atomic.Value
	r = procs.ApplyAsync(p, oddFail, 1, procs.OnError(func(err error) { gotErr.Store(err) }))
	r.Wait()
	ok, err = r.Successful()
	require.NoError(t, err)
	assert.False(t, ok)
	assert.ErrorContains(t, gotErr.Load().(error), "odd input 1")

	var all []int
	m := procs.MapAsync(p, double, ints(5), 2, procs.OnResult(func(v []int) { all = v }))
	_, err = m.GetTimeout(time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 2, 4, 6, 8}, all)

	assert.Panics(t, func() { procs.ApplyAsync(p, double, 1, procs.OnResult(func(string) {})) },
		"a callback of the wrong type is a programming error")
}

func TestAsyncResultBeforeItIsReady(t *testing.T) {
	p := newPool(t, 1)
	r := procs.ApplyAsync(p, sleepy, time.Hour)
	_, err := r.Successful()
	assert.ErrorIs(t, err, procs.ErrNotReady)
	assert.ErrorIs(t, r.WaitTimeout(time.Millisecond), procs.ErrTimeout)
	assert.ErrorIs(t, r.TryWait(), procs.ErrNotReady)
	_, err = r.TryGet()
	assert.ErrorIs(t, err, procs.ErrNotReady)
	_, err = r.GetTimeout(time.Millisecond)
	assert.ErrorIs(t, err, procs.ErrTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.GetContext(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, r.WaitContext(ctx), context.Canceled)
	_, err = procs.ApplyContext(ctx, p, double, 1)
	assert.ErrorIs(t, err, context.Canceled)
	// Terminate (cleanup) ends the sleeping task.
}

func TestPoolStarmapCallsWithSeveralArguments(t *testing.T) {
	p := newPool(t, 2)
	out, err := procs.Starmap(p, power, []procs.Args2[int, int]{{2, 10}, {3, 3}, {10, 0}}, 1)
	require.NoError(t, err)
	assert.Equal(t, []int{1024, 27, 1}, out)
}

func TestPoolInitializerRunsInEachWorker(t *testing.T) {
	p := newPool(t, 2, procs.WithInitializer(setInit, int64(77)))
	out, err := procs.Map(p, readInit, make([]struct{}, 20), 1)
	require.NoError(t, err)
	for _, v := range out {
		assert.Equal(t, int64(77), v)
	}
}

func TestPoolInitializerArgumentCarriesSharedObjects(t *testing.T) {
	seg, err := shm.Anonymous(1 << 20)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Detach() })
	q, err := ringqueue.NewTyped[int64](seg, "reports", ringqueue.Options{Capacity: 64})
	require.NoError(t, err)
	p := newPool(t, 2, procs.WithInitializer(setReports, q))
	_, err = procs.Map(p, report, []int64{1, 2, 3, 4, 5}, 1)
	require.NoError(t, err)
	var sum int64
	for range 5 {
		v, err := q.GetTimeout(10 * time.Second)
		require.NoError(t, err)
		sum += v
	}
	assert.Equal(t, int64(15), sum)
}

func TestPoolWithAFailingInitializerIsBroken(t *testing.T) {
	p := newPool(t, 2, procs.WithInitializer(failedInit, "x"))
	_, err := procs.Apply(p, double, 1)
	assert.ErrorIs(t, err, procs.ErrPoolBroken)
	assert.ErrorContains(t, err, "no database")
	_, err = procs.Apply(p, double, 1)
	assert.ErrorIs(t, err, procs.ErrPoolBroken, "and stays broken")
}

func TestPoolReplacesWorkersAfterMaxTasks(t *testing.T) {
	p := newPool(t, 2, procs.WithMaxTasksPerChild(2))
	pids, err := procs.Map(p, pid, make([]struct{}, 12), 1)
	require.NoError(t, err)
	seen := map[int]int{}
	for _, id := range pids {
		seen[id]++
	}
	for id, n := range seen {
		assert.LessOrEqual(t, n, 2, "worker %d ran more than 2 tasks", id)
	}
	assert.GreaterOrEqual(t, len(seen), 6)
}

func TestPoolLargeTasksAndResultsCrossInFragments(t *testing.T) {
	p := newPool(t, 2, procs.WithSlotSize(256), procs.WithQueueSizes(8, 8))
	big := make([]byte, 200<<10)
	for i := range big {
		big[i] = byte(i % 251)
	}
	want := slices.Clone(big)
	slices.Reverse(want)
	out, err := procs.Map(p, reverse, [][]byte{big, []byte("small"), big}, 1)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, out[0]))
	assert.Equal(t, "llams", string(out[1]))
	assert.True(t, bytes.Equal(want, out[2]))
	long := strings.Repeat("x", 10000)
	rec, err := procs.Apply(p, tagged, record{Name: long})
	require.NoError(t, err)
	assert.Equal(t, long, rec.Name)
}

func TestPoolCloseLetsQueuedWorkFinishThenJoins(t *testing.T) {
	p, err := procs.NewPool(2)
	require.NoError(t, err)
	assert.ErrorIs(t, p.Join(), procs.ErrPoolRunning)
	r := procs.MapAsync(p, double, ints(500), 1)
	require.NoError(t, p.Close())
	_, err = procs.Apply(p, double, 1)
	assert.ErrorIs(t, err, procs.ErrPoolClosed)
	require.NoError(t, p.Join())
	out, err := r.Get()
	require.NoError(t, err)
	assert.Len(t, out, 500)
	assert.Empty(t, p.Processes())
	require.NoError(t, p.Terminate(), "Terminate after Join is a no-op")
}

func TestPoolTerminateFailsPendingTasks(t *testing.T) {
	p, err := procs.NewPool(1)
	require.NoError(t, err)
	running := procs.ApplyAsync(p, sleepy, time.Hour)
	queued := procs.ApplyAsync(p, double, 1)
	require.NoError(t, p.Terminate())
	_, err = running.Get()
	assert.ErrorIs(t, err, procs.ErrPoolTerminated)
	_, err = queued.Get()
	assert.ErrorIs(t, err, procs.ErrPoolTerminated)
	_, err = procs.Apply(p, double, 1)
	assert.ErrorIs(t, err, procs.ErrPoolClosed)
}

func TestPoolServesConcurrentCallerGoroutines(t *testing.T) {
	p := newPool(t, 2)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				r, err := procs.Apply(p, double, g*1000+i)
				if !assert.NoError(t, err) || !assert.Equal(t, 2*(g*1000+i), r) {
					return
				}
			}
		})
	}
	wg.Wait()
}
