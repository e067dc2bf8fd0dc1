package distpool_test

import (
	"cmp"
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/bench"
	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/procs"
)

// Benchmarks: the same calls on the shared-memory Pool(2), on a distpool
// Pool whose two hosts run one worker each over the embedded server (so
// two worker processes either way), and on Python's Pool(2), in one run:
//
//	cd distpool && go test -run XXX -bench . -benchtime 2s
//
// The pools are started once for the whole group, so that every figure is
// of running pools and all of them come from the same few seconds (the
// compare command runs this group as its Distpool section). Python's
// figures are skipped without python3.
//
// Distpool/map-chunked/jetstream is the floor: the same bytes through the
// same kind of streams with nothing else (floor_test.go). distpool cannot
// beat it, and on a 2-core machine the transport's CPU is taken from the
// workers: see "What bounds chunked Map" in the README.

var double = procs.Register("dp-double", func(x int) (int, error) { return 2 * x, nil })

const (
	chunk1Items = 100 // one task per item: ~50 ms of distpool, enough for a rate
	// applyCalls is the fewest calls a p50 is taken over, timed or not: a
	// p50 of the few calls a fixed count may give means nothing.
	applyCalls   = 200
	chunkedItems = 100_000
	// A Map figure comes after at least mapWarmCalls untimed calls and
	// mapWarmFor of them.
	mapWarmCalls = 3
	mapWarmFor   = 100 * time.Millisecond
)

func BenchmarkDistpool(b *testing.B) {
	local, err := procs.NewPool(2)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = local.Terminate() })
	// The driver beside its embedded server, as in the one-machine
	// default: an in-process connection (the hosts, other processes,
	// use TCP).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a safety net
	defer cancel()
	dist, err := distpool.NewPool(ctx, connectInProcess(b), distpool.WithQueue("bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = dist.Terminate() })
	startHost(b, "bench", "h1", 1)
	startHost(b, "bench", "h2", 1)
	waitSize(b, dist, 2)
	execs := []struct {
		name string
		e    procs.Executor
	}{{"local", local}, {"distpool", dist}}
	for _, x := range execs {
		// One call each first: workers started, streams and consumers made.
		if _, err := procs.Map(x.e, double, []int{1, 2, 3, 4}, 1); err != nil {
			b.Fatal(err)
		}
	}

	for _, x := range execs {
		b.Run("apply/"+x.name, func(b *testing.B) { benchApply(b, x.e) })
	}
	bench.RunOnce(b, "apply/python", func(b *testing.B) {
		f := python(b, "pool_apply.py", max(b.N, applyCalls))
		b.ReportMetric(f[0], "ns/op")
		b.ReportMetric(f[1]/1e3, "p50-µs")
	})
	for _, c := range []struct {
		name         string
		items, chunk int
	}{{"map-chunk1", chunk1Items, 1}, {"map-chunked", chunkedItems, 0}} {
		in := make([]int, c.items)
		for i := range in {
			in[i] = i
		}
		for _, x := range execs {
			b.Run(c.name+"/"+x.name, func(b *testing.B) { benchMap(b, x.e, in, c.chunk) })
		}
		bench.RunOnce(b, c.name+"/python", func(b *testing.B) {
			rate := python(b, "pool_map.py", b.N, c.items, c.chunk)[0]
			b.ReportMetric(rate, "items/s")
			b.ReportMetric(float64(c.items)/rate*1e9, "ns/op")
		})
	}
	b.Run("map-chunked/jetstream", func(b *testing.B) { benchFloor(b, chunkedItems, chunkedItems/(4*2), 2) })
}

func benchApply(b *testing.B, e procs.Executor) {
	// Warm up outside the figures: the first couple of hundred calls run
	// at several times the steady round trip (a 5x run measured the local
	// Pool's p50 at 77 µs, a 2000x run at 19 µs), and a p50 taken over
	// them measures the warm-up, not the call.
	for i := range applyCalls {
		if _, err := procs.Apply(e, double, i); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, max(b.N, applyCalls))
	for i := 0; b.Loop(); i++ {
		t := time.Now()
		if _, err := procs.Apply(e, double, i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	for i := len(lat); i < applyCalls; i++ {
		t := time.Now()
		if _, err := procs.Apply(e, double, i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func benchMap(b *testing.B, e procs.Executor, in []int, chunk int) {
	// Warm up outside the figure, as benchApply does: the first calls of
	// a shape run slower, the local Pool's map-chunk1 from 2 ms down to
	// 0.2-0.4 ms over its first twenty calls, so a quick run's 5 calls
	// measured 36k items/s where a full run's 20 measured 86k.
	warm := time.Now()
	for i := 0; i < mapWarmCalls || time.Since(warm) < mapWarmFor; i++ {
		if _, err := procs.Map(e, double, in, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := procs.Map(e, double, in, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(in)*b.N)/time.Since(start).Seconds(), "items/s")
}

// findPython returns the interpreter, looked up once per process as the
// bench package's benchmarks do: the compare command passes its -python
// (resolved) in $MULTIPROC_BENCH_PYTHON, else python3 on $PATH, resolved
// past a version manager's shim (bench.ResolvePython).
var findPython = sync.OnceValues(func() (string, error) {
	return bench.ResolvePython(cmp.Or(os.Getenv("MULTIPROC_BENCH_PYTHON"), "python3"))
})

// python runs a script of testdata with python3 and returns the numbers
// it prints.
func python(b *testing.B, script string, args ...int) []float64 {
	b.Helper()
	py, err := findPython()
	if err != nil {
		b.Skipf("no Python figure to compare with: %v", err)
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
