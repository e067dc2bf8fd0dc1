package bench

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/manager"
)

// BenchmarkManager: Manager/<transport>-<callers>/<system>, one proxy round
// trip per op: a manager.Value's Get, and Python's v.value on a
// multiprocessing Manager's Value (python/manager.py), both servers in a
// child process, over a unix socket and over TCP loopback, from one caller
// and from eight. Eight callers are eight goroutines on the one connection
// of a manager.Manager (it multiplexes), and eight threads in Python (each
// opens its own connection, as Python's proxies do). Python runs first in
// each pair; the Go row reports "x-python": its ops/s over Python's in the
// same run.
func BenchmarkManager(b *testing.B) {
	for _, tr := range []struct{ name, address string }{
		{"unix", ""},
		{"tcp", "tcp://127.0.0.1:0"},
	} {
		for _, callers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s-%d", tr.name, callers), func(b *testing.B) {
				var pyRate float64
				RunOnce(b, "python", func(b *testing.B) {
					pyRate = pythonManager(b, tr.name, callers)
				})
				RunOnce(b, "manager", func(b *testing.B) {
					rate := managerRoundTrips(b, tr.address, callers)
					if pyRate > 0 {
						b.ReportMetric(rate/pyRate, "x-python")
					}
				})
			})
		}
	}
}

// pythonManager runs python/manager.py for b.N round trips and returns its
// ops/s (0 when Python is missing: the sub-benchmark is skipped).
func pythonManager(b *testing.B, transport string, callers int) float64 {
	b.StopTimer()
	py, err := findPython()
	if err != nil {
		b.Skipf("skipping the Python comparison: %v", err)
	}
	srv, err := startPython(py, pythonScript("manager.py"), "--transport", transport, "--callers", strconv.Itoa(callers))
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := srv.close(); err != nil {
			b.Error(err)
		}
	}()
	fig, err := srv.run(b, max(b.N, 1))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(fig["ops/s"], "ops/s")
	return fig["ops/s"]
}

// managerRoundTrips times b.N Gets on a Value, split between callers
// goroutines, against a server Start runs in a child process, and reports
// and returns ops/s.
func managerRoundTrips(b *testing.B, address string, callers int) float64 {
	b.StopTimer()
	m, err := manager.Start(manager.Options{Address: address})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	v, err := manager.NewValue(m, 7)
	if err != nil {
		b.Fatal(err)
	}
	for range 200 { // warm up, as the Python side does
		if _, err := v.Get(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	start := time.Now()
	b.StartTimer()
	for i := range callers {
		n := b.N/callers + btoi(i < b.N%callers)
		wg.Go(func() {
			for range n {
				if _, err := v.Get(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "ops/s")
	return rate
}

func btoi(c bool) int {
	if c {
		return 1
	}
	return 0
}

// The Manager's Python script serves rounds like the others
// (TestPythonScriptsServeRounds), on both transports, from one thread and
// from several.
func TestManagerPythonScriptServesRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts Python interpreters, seconds each")
	}
	py, err := findPython()
	if err != nil {
		t.Skipf("no Python: %v", err)
	}
	for _, args := range [][]string{
		{"--transport", "unix", "--callers", "1"},
		{"--transport", "tcp", "--callers", "3"},
	} {
		srv, err := startPython(py, pythonScript("manager.py"), args...)
		if err != nil {
			t.Fatal(err)
		}
		var clock fakeClock
		for _, n := range []int{1, 50} {
			fig, err := srv.run(&clock, n)
			if err != nil {
				t.Fatal(err)
			}
			if fig["ops/s"] <= 0 {
				t.Errorf("%v: ops/s in %v", args, fig)
			}
		}
		if err := srv.close(); err != nil {
			t.Error(err)
		}
	}
}
