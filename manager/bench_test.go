package manager

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks beside Python's Manager, measured in the same run:
//
//	go test -run XXX -bench . -benchtime 2s ./manager/
//
// The Go server runs in a child process (Start), as Python's does, over a
// unix socket and over TCP loopback. Each python sub-benchmark runs first
// and the Go ones after it report "x-python": Python's time per op over
// theirs, on the same transport. A python3 without multiprocessing, or
// none at all, skips its sub-benchmark with a message (the Go ones then
// report no ratio).

// BenchmarkProxyRoundTrip: one call, one reply (Value.Get; Python's
// v.value), from one caller and from eight (goroutines on the one
// connection of a Manager; threads in Python, each with its connection),
// and with Options.Spin, which trades CPU for wake-ups (see Options).
func BenchmarkProxyRoundTrip(b *testing.B) {
	for _, tr := range transports {
		for _, callers := range []int{1, 8} {
			py := benchPython(b, fmt.Sprintf("python-%s-%d", tr.name, callers), "roundtrip", tr.name, callers)
			for _, spin := range []time.Duration{0, 50 * time.Microsecond} {
				name := fmt.Sprintf("go-%s-%d", tr.name, callers)
				if spin > 0 {
					name += "-spin"
				}
				b.Run(name, func(b *testing.B) {
					m := benchManager(b, tr.address, spin)
					v, err := NewValue(m, 7)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					parallel(b, callers, func() error {
						_, err := v.Get()
						return err
					})
					report(b, *py)
				})
			}
		}
	}
}

// BenchmarkDictSetGet: d[k] = i; d[k] — two round trips per op.
func BenchmarkDictSetGet(b *testing.B) {
	for _, tr := range transports {
		py := benchPython(b, "python-"+tr.name, "dict", tr.name, 1)
		b.Run("go-"+tr.name, func(b *testing.B) {
			m := benchManager(b, tr.address, 0)
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

// parallel runs b.N calls of op split between callers goroutines.
func parallel(b *testing.B, callers int, op func() error) {
	var wg sync.WaitGroup
	for i := range callers {
		n := b.N / callers
		if i < b.N%callers {
			n++
		}
		wg.Go(func() {
			for range n {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func benchManager(b *testing.B, address string, spin time.Duration) *Manager {
	b.Helper()
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

// benchPython runs the python sub-benchmark name and returns (a pointer
// to, filled once it ran) Python's ns/op.
func benchPython(b *testing.B, name, what, transport string, callers int) *float64 {
	ns := new(float64)
	b.Run(name, func(b *testing.B) {
		py, err := exec.LookPath("python3")
		if err != nil {
			b.Skip("python3 not found: no comparison with Python's Manager")
		}
		n := max(b.N, 2000)
		out, err := exec.Command(py, "testdata/pybench.py", what, strconv.Itoa(n), transport, strconv.Itoa(callers)).Output()
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
