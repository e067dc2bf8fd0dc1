package manager

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Benchmarks beside Python's Manager, measured in the same run:
//
//	go test -run XXX -bench . -benchtime 2s ./manager/
//
// The Go server runs in a child process (Start), as Python's does, over a
// unix socket and over TCP loopback. The python sub-benchmark runs first
// and the Go ones report "x-python", Python's time per op over theirs. A
// python3 without multiprocessing, or none at all, skips its sub-benchmark
// with a message (the Go ones then report no ratio).

// BenchmarkProxyRoundTrip: one call, one reply (Value.Get; Python's
// v.value).
func BenchmarkProxyRoundTrip(b *testing.B) {
	py := benchPython(b, "roundtrip")
	for _, tr := range transports {
		b.Run("go-"+tr.name, func(b *testing.B) {
			m := benchManager(b, tr.address)
			v, err := NewValue(m, 7)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Get(); err != nil {
					b.Fatal(err)
				}
			}
			report(b, *py)
		})
	}
	b.Run("go-unix-parallel", func(b *testing.B) {
		// Many goroutines on one multiplexed connection.
		m := benchManager(b, "")
		v, err := NewValue(m, 7)
		if err != nil {
			b.Fatal(err)
		}
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Get(); err != nil {
					b.Error(err)
					return
				}
			}
		})
		report(b, *py)
	})
}

// BenchmarkDictSetGet: d[k] = i; d[k] — two round trips per op.
func BenchmarkDictSetGet(b *testing.B) {
	py := benchPython(b, "dict")
	for _, tr := range transports {
		b.Run("go-"+tr.name, func(b *testing.B) {
			m := benchManager(b, tr.address)
			d, err := NewDict[string, int](m)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := d.Set("k", i); err != nil {
					b.Fatal(err)
				}
				if _, err := d.Get("k"); err != nil {
					b.Fatal(err)
				}
				i++
			}
			report(b, *py)
		})
	}
}

func benchManager(b *testing.B, address string) *Manager {
	b.Helper()
	spin, _ := time.ParseDuration(os.Getenv("XSPIN"))
	m, err := Start(Options{Address: address, Spin: spin})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	return m
}

// report adds calls per second and, when Python was measured, the ratio.
func report(b *testing.B, pyNs float64) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/ns, "ops/s")
	if pyNs > 0 {
		b.ReportMetric(pyNs/ns, "x-python")
	}
}

// benchPython runs the python sub-benchmark and returns (a pointer to,
// filled once it ran) Python's ns/op.
func benchPython(b *testing.B, what string) *float64 {
	ns := new(float64)
	b.Run("python", func(b *testing.B) {
		py, err := exec.LookPath("python3")
		if err != nil {
			b.Skip("python3 not found: no comparison with Python's Manager")
		}
		n := max(b.N, 2000)
		out, err := exec.Command(py, "testdata/pybench.py", what, strconv.Itoa(n)).Output()
		if err != nil {
			b.Skipf("python3 testdata/pybench.py %s: %v", what, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil || v <= 0 {
			b.Skipf("python3 printed %q", out)
		}
		*ns = v
		b.ReportMetric(v, "ns/op") // the script's own timing, not the interpreter's start-up
		b.ReportMetric(1e9/v, "ops/s")
	})
	return ns
}
