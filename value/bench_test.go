package value_test

import (
	"bytes"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

func benchSegment(b *testing.B) *shm.Segment {
	b.Helper()
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = seg.Detach() })
	return seg
}

func benchValue[T any](b *testing.B, initial T) *value.Value[T] {
	b.Helper()
	v, err := value.New(benchSegment(b), "v", initial)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkAdd compares an uncontended Value.Add with atomic.Int64.Add in
// the same run: the issue asks for at most twice its time.
func BenchmarkAdd(b *testing.B) {
	b.Run("value", func(b *testing.B) {
		v := benchValue[int64](b, 0)
		b.ReportAllocs()
		for b.Loop() {
			v.Add(1)
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

var sinkInt64 int64

func BenchmarkLoadStore(b *testing.B) {
	b.Run("Load/value", func(b *testing.B) {
		v := benchValue[int64](b, 1)
		b.ReportAllocs()
		var s int64
		for b.Loop() {
			s += v.Load()
		}
		sinkInt64 = s
	})
	b.Run("Load/atomic.Int64", func(b *testing.B) {
		var n atomic.Int64
		b.ReportAllocs()
		var s int64
		for b.Loop() {
			s += n.Load()
		}
		sinkInt64 = s
	})
	b.Run("Store/value", func(b *testing.B) {
		v := benchValue[int64](b, 1)
		b.ReportAllocs()
		i := int64(0)
		for b.Loop() {
			i++
			v.Store(i)
		}
	})
	b.Run("Store/atomic.Int64", func(b *testing.B) {
		var n atomic.Int64
		b.ReportAllocs()
		i := int64(0)
		for b.Loop() {
			i++
			n.Store(i)
		}
	})
	// A 64-byte T: a seqlock read and a claimed double-buffer write.
	type line [8]uint64
	b.Run("Load/value-64B", func(b *testing.B) {
		v := benchValue(b, line{})
		b.ReportAllocs()
		var s uint64
		for b.Loop() {
			s += v.Load()[3]
		}
		sinkInt64 = int64(s)
	})
	b.Run("Store/value-64B", func(b *testing.B) {
		v := benchValue(b, line{})
		b.ReportAllocs()
		var x line
		for b.Loop() {
			x[3]++
			v.Store(x)
		}
	})
}

// BenchmarkUpdate is an uncontended locked increment, by Update and by
// Lock/Load/Store/Unlock, next to a sync.Mutex-guarded int64.
func BenchmarkUpdate(b *testing.B) {
	b.Run("Update", func(b *testing.B) {
		v := benchValue[int64](b, 0)
		b.ReportAllocs()
		for b.Loop() {
			_ = v.Update(func(n *int64) { *n++ })
		}
	})
	b.Run("LockUnlock", func(b *testing.B) {
		v := benchValue[int64](b, 0)
		b.ReportAllocs()
		for b.Loop() {
			_ = v.Lock()
			v.Store(v.Load() + 1)
			_ = v.Unlock()
		}
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		var n int64
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			n++
			mu.Unlock()
		}
		sinkInt64 = n
	})
}

// BenchmarkLockedIncrement: two processes increment one Value under its
// lock, b.N increments in all; ops/s is the total rate from the moment
// both are ready to the moment both are done. The python sub-benchmark
// runs the same with multiprocessing.Value('i') and get_lock() (fork, two
// processes), timed by Python itself; it is skipped without python3.
func BenchmarkLockedIncrement(b *testing.B) {
	for _, useLock := range []bool{false, true} {
		name := "Update"
		if useLock {
			name = "LockUnlock"
		}
		b.Run(name, func(b *testing.B) {
			seg := benchSegment(b)
			v, err := value.New[int64](seg, "n", 0)
			if err != nil {
				b.Fatal(err)
			}
			goFlag, err := value.NewRaw[uint32](seg, "go", 0)
			if err != nil {
				b.Fatal(err)
			}
			half := b.N / 2
			var ps []*procs.Process
			for _, n := range []int{half, b.N - half} {
				p, err := procs.Start(lockedIncrements, incArgs{V: v, N: n, UseLock: useLock, Go: goFlag})
				if err != nil {
					b.Fatal(err)
				}
				ps = append(ps, p)
			}
			b.ResetTimer()
			start := time.Now()
			goFlag.Store(1)
			for _, p := range ps {
				if err := p.Join(); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if got := v.Load(); got != int64(b.N) {
				b.Fatalf("sum %d, want %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
		})
	}
	b.Run("python", func(b *testing.B) {
		py, err := exec.LookPath("python3")
		if err != nil {
			b.Skip("python3 not found: no Python baseline in this run")
		}
		// At least 100k increments per process, whatever b.N: a shorter
		// run measures Python's process start and join, not the lock.
		out, err := exec.Command(py, "-c", pythonLockedIncrement, strconv.Itoa(max(b.N/2, 100_000))).Output()
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

// pythonLockedIncrement is the Python baseline: two forked processes each
// add 1 argv[1] times to a Value('i') under get_lock(); it prints the total
// rate, timed from the start signal to both joins.
const pythonLockedIncrement = `
import multiprocessing as mp, sys, time
def work(v, n, go):
    go.wait()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1])
    v, go = mp.Value("i", 0), mp.Event()
    ps = [mp.Process(target=work, args=(v, n, go)) for _ in range(2)]
    for p in ps: p.start()
    t = time.perf_counter()
    go.set()
    for p in ps: p.join()
    dt = time.perf_counter() - t
    assert v.value == 2 * n
    print(2 * n / dt)
`
