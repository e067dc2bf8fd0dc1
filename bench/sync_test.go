package bench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

// BenchmarkSync: Sync/<primitive>, one operation per op, reporting ops/s
// (all processes together). "-2proc" variants split b.N between the
// benchmark's process and a child that contend for the same lock or word;
// Go's in-process references contend between two goroutines instead.
//
//	mutex, sync.Mutex, python-lock                 Lock+Unlock, uncontended
//	mutex-2proc, sync.Mutex-2goroutines,
//	  python-lock-2proc                            the same, two contenders
//	value-add, atomic-add, python-value            add 1 (Python: "+= 1" under get_lock())
//	value-add-2proc, value-update-2proc,
//	  atomic-add-2goroutines, python-value-2proc   the same, two contenders
//
// In the contended mutex runs the critical section increments a counter
// with a plain load and store, and the final count is checked: a lock that
// let two holders in would lose increments.
func BenchmarkSync(b *testing.B) {
	ops := []string{"ops/s"}
	b.Run("mutex", benchMutex)
	b.Run("sync.Mutex", benchSyncMutex)
	runPythonBench(b, "python-lock", ops, "lock.py", "--procs", "1")
	RunOnce(b, "mutex-2proc", func(b *testing.B) { benchShared2(b, "mutex") })
	b.Run("sync.Mutex-2goroutines", benchSyncMutex2)
	runPythonBench(b, "python-lock-2proc", ops, "lock.py", "--procs", "2")
	b.Run("value-add", benchValueAdd)
	b.Run("atomic-add", benchAtomicAdd)
	runPythonBench(b, "python-value", ops, "value.py", "--procs", "1")
	RunOnce(b, "value-add-2proc", func(b *testing.B) { benchShared2(b, "value-add") })
	RunOnce(b, "value-update-2proc", func(b *testing.B) { benchShared2(b, "value-update") })
	b.Run("atomic-add-2goroutines", benchAtomicAdd2)
	runPythonBench(b, "python-value-2proc", ops, "value.py", "--procs", "2")
}

func benchMutex(b *testing.B) {
	m, err := semaphore.NewMutex(testutil.Anonymous(b, 4096), "m")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Lock(); err != nil {
			b.Fatal(err)
		}
		if err := m.Unlock(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRate(b, b.N, "ops/s")
}

func benchSyncMutex(b *testing.B) {
	var m sync.Mutex
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Lock()
		//lint:ignore SA2001 an empty critical section is what is measured
		m.Unlock()
	}
	b.StopTimer()
	reportRate(b, b.N, "ops/s")
}

func benchValueAdd(b *testing.B) {
	v, err := value.New[int64](testutil.Anonymous(b, 4096), "v", 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.Add(1)
	}
	b.StopTimer()
	if got := v.Load(); got != int64(b.N) {
		b.Fatalf("count %d, want %d", got, b.N)
	}
	reportRate(b, b.N, "ops/s")
}

func benchAtomicAdd(b *testing.B) {
	var v atomic.Int64
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v.Add(1)
	}
	b.StopTimer()
	reportRate(b, b.N, "ops/s")
}

// sharedArg is what a contending child gets: the operation, the
// objects (in Seg, by name) and its share of the operations.
type sharedArg struct {
	Seg  *shm.Segment
	Gate string
	Op   string // mutex, value-add, value-update
	N    int
}

// sharedOp opens the objects of op in seg and returns a function doing
// one operation.
func sharedOp(seg *shm.Segment, op string) (func() error, error) {
	switch op {
	case "mutex":
		m, err := semaphore.OpenMutex(seg, "m")
		if err != nil {
			return nil, err
		}
		obj, err := seg.OpenObject("count", shm.KindBytes, 0, 0)
		if err != nil {
			return nil, err
		}
		count := obj.Uint64(0)
		return func() error {
			if err := m.Lock(); err != nil {
				return err
			}
			// Not an atomic add: only the lock keeps increments whole.
			atomic.StoreUint64(count, atomic.LoadUint64(count)+1)
			return m.Unlock()
		}, nil
	case "value-add":
		v, err := value.Open[int64](seg, "v")
		if err != nil {
			return nil, err
		}
		return func() error { v.Add(1); return nil }, nil
	case "value-update":
		v, err := value.Open[int64](seg, "v")
		if err != nil {
			return nil, err
		}
		inc := func(x *int64) { *x++ }
		return func() error { return v.Update(inc) }, nil
	}
	return nil, fmt.Errorf("bench: unknown shared op %q", op)
}

// sharedCount reads the final count of op's objects.
func sharedCount(seg *shm.Segment, op string) (uint64, error) {
	if op == "mutex" {
		obj, err := seg.OpenObject("count", shm.KindBytes, 0, 0)
		if err != nil {
			return 0, err
		}
		return atomic.LoadUint64(obj.Uint64(0)), nil
	}
	v, err := value.Open[int64](seg, "v")
	if err != nil {
		return 0, err
	}
	return uint64(v.Load()), nil
}

var sharedWork = procs.Register("bench-shared-work", func(a sharedArg) (int, error) {
	g, err := openGate(a.Seg, a.Gate)
	if err != nil {
		return 0, err
	}
	do, err := sharedOp(a.Seg, a.Op)
	if err != nil {
		return 0, err
	}
	g.childReady()
	if err := g.waitStart(); err != nil {
		return 0, err
	}
	for i := 0; i < a.N; i++ {
		if err := do(); err != nil {
			return i, err
		}
	}
	g.childDone()
	return a.N, nil
})

// sharedRound runs op n times in all, half here and half in a child, and
// checks the count.
func sharedRound(b testing.TB, n int, op string) {
	stopTimer(b)
	seg := testutil.Anonymous(b, 1<<16)
	g, err := newGate(seg, "gate")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := semaphore.NewMutex(seg, "m"); err != nil {
		b.Fatal(err)
	}
	if _, err := seg.Create(shm.Spec{Name: "count", Kind: shm.KindBytes, Size: 64}, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := value.New[int64](seg, "v", 0); err != nil {
		b.Fatal(err)
	}
	do, err := sharedOp(seg, op)
	if err != nil {
		b.Fatal(err)
	}
	mine := n / 2
	var c crew
	start(b, &c, sharedWork, sharedArg{Seg: seg, Gate: "gate", Op: op, N: n - mine})
	timed(b, g, c, 1, func() error {
		for i := 0; i < mine; i++ {
			if err := do(); err != nil {
				return err
			}
		}
		return nil
	})
	if got, err := sharedCount(seg, op); err != nil || got != uint64(n) {
		b.Fatalf("count %d, want %d (%v)", got, n, err)
	}
}

func benchShared2(b *testing.B, op string) {
	sharedRound(b, b.N, op)
	reportRate(b, b.N, "ops/s")
}

// twoGoroutines runs f(n) in two goroutines with n = b.N split between
// them, timed.
func twoGoroutines(b *testing.B, f func(n int)) {
	b.StopTimer()
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for _, n := range []int{b.N / 2, b.N - b.N/2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			f(n)
		}()
	}
	b.StartTimer()
	close(ready)
	wg.Wait()
	b.StopTimer()
	reportRate(b, b.N, "ops/s")
}

func benchSyncMutex2(b *testing.B) {
	var m sync.Mutex
	var count int
	twoGoroutines(b, func(n int) {
		for i := 0; i < n; i++ {
			m.Lock()
			count++
			m.Unlock()
		}
	})
	if count != b.N {
		b.Fatalf("count %d, want %d", count, b.N)
	}
}

func benchAtomicAdd2(b *testing.B) {
	var v atomic.Int64
	twoGoroutines(b, func(n int) {
		for i := 0; i < n; i++ {
			v.Add(1)
		}
	})
	if got := v.Load(); got != int64(b.N) {
		b.Fatalf("count %d, want %d", got, b.N)
	}
}
