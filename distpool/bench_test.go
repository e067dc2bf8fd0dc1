package distpool_test

import (
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
)

// Benchmarks: the same calls on the shared-memory Pool(2), on a distpool
// Pool whose two hosts run one worker each over the embedded server (so
// two worker processes either way), and on Python's Pool(2), in one run:
//
//	cd distpool && go test -run XXX -bench . -benchtime 2s
//
// Python's figures are skipped without python3.

var double = procs.Register("dp-double", func(x int) (int, error) { return 2 * x, nil })

// executors gives each benchmark a fresh local pool and a distpool pool
// with its hosts, torn down when it ends.
func executors(b *testing.B, queue string) map[string]func(*testing.B) procs.Executor {
	return map[string]func(*testing.B) procs.Executor{
		"local": func(b *testing.B) procs.Executor {
			p, err := procs.NewPool(2)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = p.Terminate() })
			return p
		},
		"distpool": func(b *testing.B) procs.Executor {
			p := newPool(b, queue)
			startHost(b, queue, "h1", 1)
			startHost(b, queue, "h2", 1)
			waitSize(b, p, 2)
			return p
		},
	}
}

func BenchmarkApply(b *testing.B) {
	for _, name := range []string{"local", "distpool"} {
		b.Run(name, func(b *testing.B) {
			e := executors(b, "bench-apply")[name](b)
			if _, err := procs.Apply(e, double, 1); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t := time.Now()
				if _, err := procs.Apply(e, double, i); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
	b.Run("python", func(b *testing.B) {
		f := python(b, "pool_apply.py", max(b.N, 2000)) // one run of 2000 calls at least: a p50 of one call means nothing
		b.ReportMetric(f[0], "ns/op")
		b.ReportMetric(f[1]/1e3, "p50-µs")
	})
}

func BenchmarkMap(b *testing.B) {
	for _, c := range []struct {
		name         string
		items, chunk int
	}{{"chunk1", 5000, 1}, {"chunked", 100_000, 0}} {
		for _, name := range []string{"local", "distpool"} {
			b.Run(c.name+"/"+name, func(b *testing.B) {
				e := executors(b, "bench-map")[name](b)
				in := make([]int, c.items)
				for i := range in {
					in[i] = i
				}
				if _, err := procs.Map(e, double, in[:100], c.chunk); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				start := time.Now()
				for range b.N {
					if _, err := procs.Map(e, double, in, c.chunk); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(c.items*b.N)/time.Since(start).Seconds(), "items/s")
			})
		}
		b.Run(c.name+"/python", func(b *testing.B) {
			rate := python(b, "pool_map.py", b.N, c.items, c.chunk)[0]
			b.ReportMetric(rate, "items/s")
			b.ReportMetric(float64(c.items)/rate*1e9, "ns/op")
		})
	}
}

// python runs a script of testdata with python3 and returns the numbers
// it prints.
func python(b *testing.B, script string, args ...int) []float64 {
	b.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 not found: no Python figure to compare with")
	}
	cmdArgs := []string{"testdata/" + script}
	for _, a := range args {
		cmdArgs = append(cmdArgs, strconv.Itoa(a))
	}
	// A safety net, not a measurement: a wedged script must not hang the run.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, cmdArgs...).Output()
	if err != nil {
		b.Skipf("python3 failed: %v", err)
	}
	var f []float64
	for _, s := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			b.Fatalf("python3 printed %q", out)
		}
		f = append(f, v)
	}
	return f
}
