package procs_test

import (
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
)

// Pool benchmarks, each beside Python's Pool(2) measuring the same thing
// in the same run (skipped without python3):
//
//	go test ./procs -run XXX -bench Pool -benchtime 2s

func BenchmarkPoolApply(b *testing.B) {
	b.Run("procs", func(b *testing.B) {
		p := newPool(b, 2)
		if _, err := procs.Apply(p, double, 1); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := procs.Apply(p, double, i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("python", func(b *testing.B) {
		b.ReportMetric(pythonFigure(b, pyPoolApply, b.N), "ns/op")
	})
}

func BenchmarkPoolMap100k(b *testing.B) {
	const items = 100_000
	for _, c := range []struct {
		name  string
		chunk int
	}{{"chunk1", 1}, {"default-chunks", 0}} {
		b.Run(c.name+"/procs", func(b *testing.B) {
			p := newPool(b, 2)
			in := ints(items)
			if _, err := procs.Map(p, double, in[:1000], c.chunk); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if _, err := procs.Map(p, double, in, c.chunk); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(items*b.N)/time.Since(start).Seconds(), "items/s")
		})
		b.Run(c.name+"/python", func(b *testing.B) {
			rate := pythonFigure(b, pyPoolMap, b.N, items, c.chunk)
			b.ReportMetric(rate, "items/s")
			b.ReportMetric(items/rate*1e9, "ns/op")
		})
	}
}

const pyPoolApply = `
import multiprocessing as mp, sys, time
def double(x):
    return 2 * x
if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1])
    with mp.Pool(2) as p:
        p.apply_async(double, (1,)).get()
        t = time.perf_counter()
        for i in range(n):
            p.apply_async(double, (i,)).get()
        dt = time.perf_counter() - t
    print(dt / n * 1e9)
`

const pyPoolMap = `
import multiprocessing as mp, sys, time
def double(x):
    return 2 * x
if __name__ == "__main__":
    mp.set_start_method("fork")
    n, items, chunk = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    xs = list(range(items))
    with mp.Pool(2) as p:
        p.map(double, xs[:1000], chunk or None)
        t = time.perf_counter()
        for _ in range(n):
            p.map(double, xs, chunk or None)
        dt = time.perf_counter() - t
    print(n * items / dt)
`
