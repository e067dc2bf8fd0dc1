package array_test

import (
	"bytes"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
)

func benchArray(b *testing.B, n int) *array.Array[int64] {
	b.Helper()
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = seg.Detach() })
	a, err := array.New[int64](seg, "a", n)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

var sink int64

// BenchmarkAdd: an uncontended element Add next to atomic.Int64.Add.
func BenchmarkAdd(b *testing.B) {
	b.Run("array", func(b *testing.B) {
		a := benchArray(b, 8)
		b.ReportAllocs()
		for b.Loop() {
			a.Add(3, 1)
		}
	})
	b.Run("atomic.Int64", func(b *testing.B) {
		var n atomic.Int64
		b.ReportAllocs()
		for b.Loop() {
			n.Add(1)
		}
	})
}

func BenchmarkLoadStore(b *testing.B) {
	b.Run("Load", func(b *testing.B) {
		a := benchArray(b, 8)
		b.ReportAllocs()
		var s int64
		for b.Loop() {
			s += a.Load(5)
		}
		sink = s
	})
	b.Run("Store", func(b *testing.B) {
		a := benchArray(b, 8)
		b.ReportAllocs()
		i := int64(0)
		for b.Loop() {
			i++
			a.Store(5, i)
		}
	})
	b.Run("At", func(b *testing.B) {
		a := benchArray(b, 8)
		b.ReportAllocs()
		var s int64
		for b.Loop() {
			s += a.At(5)
		}
		sink = s
	})
}

// BenchmarkSum sums 4096 elements through the zero-copy view and through
// per-element atomic loads.
func BenchmarkSum(b *testing.B) {
	b.Run("Slice", func(b *testing.B) {
		a := benchArray(b, 4096)
		b.ReportAllocs()
		b.SetBytes(4096 * 8)
		var s int64
		for b.Loop() {
			for _, x := range a.Slice() {
				s += x
			}
		}
		sink = s
	})
	b.Run("Load", func(b *testing.B) {
		a := benchArray(b, 4096)
		b.ReportAllocs()
		b.SetBytes(4096 * 8)
		var s int64
		for b.Loop() {
			for i := range a.Len() {
				s += a.Load(i)
			}
		}
		sink = s
	})
}

// BenchmarkUpdate is an uncontended locked increment of one element.
func BenchmarkUpdate(b *testing.B) {
	b.Run("Update", func(b *testing.B) {
		a := benchArray(b, 8)
		b.ReportAllocs()
		for b.Loop() {
			_ = a.Update(func(s []int64) { s[0]++ })
		}
	})
	b.Run("LockUnlock", func(b *testing.B) {
		a := benchArray(b, 8)
		b.ReportAllocs()
		for b.Loop() {
			_ = a.Lock()
			a.Slice()[0]++
			_ = a.Unlock()
		}
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		s := make([]int64, 8)
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			s[0]++
			mu.Unlock()
		}
	})
}

// BenchmarkLockedIncrement: two processes each increment every element of
// a 4-element Array under its lock; b.N locked updates in all, reported as
// total updates per second. The python sub-benchmark does the same with
// multiprocessing.Array('q', 4) and get_lock(), timed by Python itself.
func BenchmarkLockedIncrement(b *testing.B) {
	for _, useLock := range []bool{false, true} {
		name := "Update"
		if useLock {
			name = "LockUnlock"
		}
		b.Run(name, func(b *testing.B) {
			a := benchArray(b, 4)
			goFlag, err := array.NewRaw[uint32](a.Segment(), "go", 1)
			if err != nil {
				b.Fatal(err)
			}
			half := b.N / 2
			var ps []*procs.Process
			for _, n := range []int{half, b.N - half} {
				p, err := procs.Start(bulkIncrements, bulkArgs{A: a, N: n, UseLock: useLock, Go: goFlag})
				if err != nil {
					b.Fatal(err)
				}
				ps = append(ps, p)
			}
			b.ResetTimer()
			start := time.Now()
			goFlag.Store(0, 1)
			for _, p := range ps {
				if err := p.Join(); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			for _, x := range a.Slice() {
				if x != int64(b.N) {
					b.Fatalf("element %d, want %d", x, b.N)
				}
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
		})
	}
	b.Run("python", func(b *testing.B) {
		py, err := exec.LookPath("python3")
		if err != nil {
			b.Skip("python3 not found: no Python baseline in this run")
		}
		// At least 20k updates per process, whatever b.N: a shorter run
		// measures Python's process start and join, not the lock.
		out, err := exec.Command(py, "-c", pythonLockedIncrement, strconv.Itoa(max(b.N/2, 20_000))).Output()
		if err != nil {
			b.Skipf("python3 failed: %v", err)
		}
		rate, err := strconv.ParseFloat(string(bytes.TrimSpace(out)), 64)
		if err != nil {
			b.Fatalf("python3 printed %q", out)
		}
		b.ReportMetric(rate, "ops/s")
		b.ReportMetric(1e9/rate, "ns/op")
	})
}

const pythonLockedIncrement = `
import multiprocessing as mp, sys, time
def work(a, n, go):
    go.wait()
    for _ in range(n):
        with a.get_lock():
            for i in range(len(a)):
                a[i] += 1
if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1])
    a, go = mp.Array("q", 4), mp.Event()
    ps = [mp.Process(target=work, args=(a, n, go)) for _ in range(2)]
    for p in ps: p.start()
    t = time.perf_counter()
    go.set()
    for p in ps: p.join()
    dt = time.perf_counter() - t
    assert list(a) == [2 * n] * 4
    print(2 * n / dt)
`
