package bench

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

// BenchmarkPython: a Python process on multiproc's objects (the package in
// python/ at the repository's root), beside what Python offers between two
// Python processes, in the same run.
//
//	ringqueue-put_many/<size>  Python producer -> Go consumer, SPSC ring of
//	                           1024 slots, put_many in batches of 256
//	ringqueue-put/<size>       the same with one put per message
//	mp-queue/<size>            multiprocessing.Queue(maxsize=1024), Python -> Python
//	mp-pipe/<size>             multiprocessing.Pipe(duplex=False), Python -> Python
//	counter-go+python          an int64 Value's "+= 1" under its lock, a Go
//	                           goroutine and a Python process contending,
//	                           b.N each; ops/s over both
//	counter-mp-2proc           multiprocessing.Value("q") under get_lock(),
//	                           two Python processes (bench/python/value.py)
//
// A message rate is b.N over the time from "run" to the last message
// received by Go (ringqueue) or by the Python consumer (mp-*).
func BenchmarkPython(b *testing.B) {
	for _, sz := range []msgSize{{name: "8B", bytes: 8, slots: 1024}, {name: "64B", bytes: 64, slots: 1024}} {
		benchPyToGo(b, "ringqueue-put_many/"+sz.name, sz.bytes, 256)
		benchPyToGo(b, "ringqueue-put/"+sz.name, sz.bytes, 1)
		runPythonBench(b, "mp-queue/"+sz.name, []string{"msgs/s"}, "throughput.py",
			"--system", "queue", "--size", strconv.Itoa(sz.bytes), "--capacity", strconv.Itoa(sz.slots))
		runPythonBench(b, "mp-pipe/"+sz.name, []string{"msgs/s"}, "throughput.py",
			"--system", "pipe", "--size", strconv.Itoa(sz.bytes), "--capacity", strconv.Itoa(sz.slots))
	}
	benchCounterGoPython(b)
	runPythonBench(b, "counter-mp-2proc", []string{"ops/s"}, "value.py", "--procs", "2")
}

// xlSegment makes a named segment for one benchmark, removed when owner
// (the benchmark whose rounds share it) ends.
func xlSegment(b, owner *testing.B, heap int) (*shm.Segment, string) {
	name := fmt.Sprintf("mpbench-python-%d-%d", os.Getpid(), time.Now().UnixNano())
	seg, err := shm.Create(name, heap)
	if err != nil {
		b.Fatal(err)
	}
	owner.Cleanup(func() {
		_ = seg.Unlink()
		_ = seg.Detach()
	})
	return seg, name
}

// startXlang starts bench/python/xlang.py, skipping when there is no
// Python; it is stopped when owner ends.
func startXlang(b, owner *testing.B, args ...string) *pyServer {
	py, err := findPython()
	if err != nil {
		b.Skipf("skipping the Python comparison: %v", err)
	}
	srv, err := startPython(py, pythonScript("xlang.py"), args...)
	if err != nil {
		b.Fatal(err)
	}
	owner.Cleanup(func() {
		if err := srv.close(); err != nil {
			owner.Error(err)
		}
	})
	return srv
}

func benchPyToGo(owner *testing.B, name string, size, batch int) {
	var (
		srv *pyServer
		q   *ringqueue.Queue
	)
	owner.Run(name, func(b *testing.B) {
		b.StopTimer()
		if srv == nil {
			seg, segName := xlSegment(b, owner, 1<<21)
			var err error
			q, err = ringqueue.New(seg, "q", ringqueue.Options{Mode: ringqueue.SPSC, Capacity: 1024, SlotSize: size})
			if err != nil {
				b.Fatal(err)
			}
			srv = startXlang(b, owner, "--role", "produce", "--segment", segName, "--size", strconv.Itoa(size), "--batch", strconv.Itoa(batch))
		}
		start := time.Now()
		b.StartTimer()
		if _, err := fmt.Fprintf(srv.in, "run %d\n", b.N); err != nil {
			b.Fatal(err)
		}
		got := 0
		for got < b.N {
			n, err := q.GetBatchTimeout(b.N-got, func(msg []byte) {
				if len(msg) != size {
					panic(fmt.Sprintf("message of %d bytes, want %d", len(msg), size))
				}
			}, time.Minute)
			if err != nil {
				b.Fatalf("after %d of %d messages: %v; stderr: %s", got, b.N, err, lastLines(srv.stderr.String(), 5))
			}
			got += n
		}
		el := time.Since(start)
		b.StopTimer()
		if _, err := srv.out.ReadString('\n'); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	})
}

func benchCounterGoPython(owner *testing.B) {
	var (
		srv *pyServer
		v   *value.Value[int64]
	)
	owner.Run("counter-go+python", func(b *testing.B) {
		b.StopTimer()
		if srv == nil {
			seg, segName := xlSegment(b, owner, 1<<16)
			var err error
			if v, err = value.New(seg, "v", int64(0)); err != nil {
				b.Fatal(err)
			}
			srv = startXlang(b, owner, "--role", "count", "--segment", segName)
		}
		before := v.Load()
		start := time.Now()
		b.StartTimer()
		if _, err := fmt.Fprintf(srv.in, "run %d\n", b.N); err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range b.N {
				if err := v.Update(func(x *int64) { *x++ }); err != nil {
					panic(err)
				}
			}
		}()
		_, err := srv.out.ReadString('\n')
		wg.Wait()
		el := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if got := v.Load() - before; got != 2*int64(b.N) {
			b.Fatalf("counter moved by %d, want %d", got, 2*b.N)
		}
		b.ReportMetric(2*float64(b.N)/el.Seconds(), "ops/s")
	})
}
