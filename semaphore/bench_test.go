package semaphore

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
)

// Benchmarks. Comparisons are sibling sub-benchmarks, measured in one run:
//
//	go test -run XXX -bench . -benchmem ./semaphore

// BenchmarkMutex compares the shared Mutex with sync.Mutex.
func BenchmarkMutex(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		b.Run("multiproc", func(b *testing.B) {
			m := must(NewMutex(newSeg(b), "m"))
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Lock()
				_ = m.Unlock()
			}
		})
		b.Run("sync.Mutex", func(b *testing.B) {
			var m sync.Mutex
			b.ReportAllocs()
			for b.Loop() {
				m.Lock()
				//lint:ignore SA2001 an empty critical section is what is measured
				m.Unlock()
			}
		})
	})
	b.Run("contended-goroutines", func(b *testing.B) {
		b.Run("multiproc", func(b *testing.B) {
			m := must(NewMutex(newSeg(b), "m"))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = m.Lock()
					_ = m.Unlock()
				}
			})
		})
		b.Run("sync.Mutex", func(b *testing.B) {
			var m sync.Mutex
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m.Lock()
					//lint:ignore SA2001 an empty critical section is what is measured
					m.Unlock()
				}
			})
		})
	})
	// Two processes incrementing one shared counter under the lock: the
	// parent's b.N increments, while a child does the same until told to
	// stop. ops/s counts both (Python: Value += 1 under get_lock(), two
	// processes, ~1.0M ops/s total on this machine kind).
	b.Run("contended-processes", func(b *testing.B) {
		seg := newSeg(b)
		m := must(NewMutex(seg, "m"))
		counter := rawObject(b, seg, "counter", 8).Uint64(0)
		ready := must(NewEvent(seg, "ready"))
		stop := must(NewEvent(seg, "stop"))
		p, err := procs.Start(contend, contendArg{Seg: seg, Mu: m, Ready: ready, Stop: stop})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = p.Kill(); _ = p.JoinTimeout(joinWait) }()
		if err := ready.WaitTimeout(joinWait); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		startCount := atomic.LoadUint64(counter)
		start := time.Now()
		for b.Loop() {
			_ = m.Lock()
			atomic.StoreUint64(counter, atomic.LoadUint64(counter)+1)
			_ = m.Unlock()
		}
		elapsed := time.Since(start)
		total := atomic.LoadUint64(counter) - startCount
		b.StopTimer()
		stop.Set()
		if err := p.JoinTimeout(joinWait); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(total)/elapsed.Seconds(), "ops/s")
		b.ReportMetric(float64(total-uint64(b.N))/float64(total), "child-share")
	})
}

type contendArg struct {
	Seg   *shm.Segment
	Mu    *Mutex
	Ready *Event
	Stop  *Event
}

// contend increments the shared counter under the lock until Stop is set.
var contend = procs.Register("semaphore-bench-contend", func(a contendArg) (int, error) {
	obj, err := a.Seg.Lookup("counter")
	if err != nil {
		return 0, err
	}
	c := obj.Uint64(0)
	a.Ready.Set()
	n := 0
	for !a.Stop.IsSet() {
		for range 256 {
			if err := a.Mu.Lock(); err != nil {
				return n, err
			}
			atomic.StoreUint64(c, atomic.LoadUint64(c)+1)
			if err := a.Mu.Unlock(); err != nil {
				return n, err
			}
		}
		n += 256
	}
	return n, nil
})

// BenchmarkSemaphore compares the shared Semaphore with a buffered
// channel used as a semaphore, what a Go program would use in-process.
func BenchmarkSemaphore(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		b.Run("multiproc", func(b *testing.B) {
			s := must(NewSemaphore(newSeg(b), "s", 1))
			b.ReportAllocs()
			for b.Loop() {
				_ = s.Acquire()
				_ = s.Release()
			}
		})
		b.Run("chan", func(b *testing.B) {
			s := make(chan struct{}, 1)
			b.ReportAllocs()
			for b.Loop() {
				s <- struct{}{}
				<-s
			}
		})
	})
	b.Run("contended-goroutines", func(b *testing.B) {
		b.Run("multiproc", func(b *testing.B) {
			s := must(NewSemaphore(newSeg(b), "s", 1))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = s.Acquire()
					_ = s.Release()
				}
			})
		})
		b.Run("chan", func(b *testing.B) {
			s := make(chan struct{}, 1)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s <- struct{}{}
					<-s
				}
			})
		})
	})
}

// BenchmarkEvent measures the cheap calls of an Event.
func BenchmarkEvent(b *testing.B) {
	e := must(NewEvent(newSeg(b), "e"))
	b.Run("set-clear", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.Set()
			e.Clear()
		}
	})
	b.Run("wait-set", func(b *testing.B) {
		e.Set()
		b.ReportAllocs()
		for b.Loop() {
			_ = e.Wait()
		}
	})
}

// BenchmarkBarrier measures a one-party round (no waiting) and a
// two-goroutine round trip.
func BenchmarkBarrier(b *testing.B) {
	b.Run("one-party", func(b *testing.B) {
		bar := must(NewBarrier(newSeg(b), "b", 1, nil))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = bar.Wait()
		}
	})
	b.Run("two-goroutines", func(b *testing.B) {
		bar := must(NewBarrier(newSeg(b), "b", 2, nil))
		done := make(chan struct{})
		n := b.N
		go func() {
			for range n {
				_, _ = bar.Wait()
			}
			close(done)
		}()
		b.ReportAllocs()
		for range n {
			_, _ = bar.Wait()
		}
		<-done
	})
}
