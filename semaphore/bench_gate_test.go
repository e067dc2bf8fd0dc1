package semaphore

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
)

// The experiment behind Mutex keeping its own waiters-bit loop: the same
// 64-bit holder word locked through futex.Gate.Await instead, its unlock
// a CAS to 0 and then a Signal (a load of the sleepers word). No owner
// death handling: only the waiting is compared.
//
//	go test -run XXX -bench 'LockShape' -benchmem ./semaphore

type gateLock struct {
	word *uint64
	gate futex.Gate
	self uint64
}

func gateLockAt(obj shm.Object) *gateLock {
	return &gateLock{word: obj.Uint64(0), gate: gateAt(obj, 8, 12), self: obj.Segment().Self()}
}

func (l *gateLock) lock() {
	if atomic.CompareAndSwapUint64(l.word, 0, l.self) {
		return
	}
	_ = l.gate.Await(futex.Block(), futex.Waiter{Policy: futex.Brief, Ready: func() bool {
		return atomic.LoadUint64(l.word) == 0 && atomic.CompareAndSwapUint64(l.word, 0, l.self)
	}})
}

func (l *gateLock) unlock() {
	atomic.StoreUint64(l.word, 0)
	l.gate.Signal(1)
}

type gateContendArg struct {
	Seg   *shm.Segment
	Ready *Event
	Stop  *Event
}

var gateContend = procs.Register("semaphore-bench-gate-contend", func(a gateContendArg) (int, error) {
	obj, err := a.Seg.Lookup("gl")
	if err != nil {
		return 0, err
	}
	cobj, err := a.Seg.Lookup("counter")
	if err != nil {
		return 0, err
	}
	l, c := gateLockAt(obj), cobj.Uint64(0)
	a.Ready.Set()
	n := 0
	for !a.Stop.IsSet() {
		for range 256 {
			l.lock()
			atomic.StoreUint64(c, atomic.LoadUint64(c)+1)
			l.unlock()
		}
		n += 256
	}
	return n, nil
})

func BenchmarkLockShape(b *testing.B) {
	for _, shape := range []string{"waiters-bit", "gate"} {
		b.Run(shape, func(b *testing.B) {
			b.Run("uncontended", func(b *testing.B) {
				seg := newSeg(b)
				lock, unlock := lockShape(b, seg, shape)
				b.ReportAllocs()
				for b.Loop() {
					lock()
					unlock()
				}
			})
			b.Run("contended-goroutines", func(b *testing.B) {
				seg := newSeg(b)
				lock, unlock := lockShape(b, seg, shape)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						lock()
						unlock()
					}
				})
			})
			b.Run("contended-processes", func(b *testing.B) {
				seg := newSeg(b)
				lock, unlock := lockShape(b, seg, shape)
				counter := rawObject(b, seg, "counter", 8).Uint64(0)
				ready := must(NewEvent(seg, "ready"))
				stop := must(NewEvent(seg, "stop"))
				var p *procs.Process
				var err error
				if shape == "gate" {
					p, err = procs.Start(gateContend, gateContendArg{Seg: seg, Ready: ready, Stop: stop})
				} else {
					p, err = procs.Start(contend, contendArg{Seg: seg, Mu: must(OpenMutex(seg, "m")), Ready: ready, Stop: stop})
				}
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = p.Kill(); _ = p.JoinTimeout(joinWait) }()
				if err := ready.WaitTimeout(joinWait); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				startCount := atomic.LoadUint64(counter)
				start := time.Now()
				for b.Loop() {
					lock()
					atomic.StoreUint64(counter, atomic.LoadUint64(counter)+1)
					unlock()
				}
				elapsed := time.Since(start)
				total := atomic.LoadUint64(counter) - startCount
				b.StopTimer()
				stop.Set()
				if err := p.JoinTimeout(joinWait); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(total)/elapsed.Seconds(), "ops/s")
			})
		})
	}
}

func lockShape(b *testing.B, seg *shm.Segment, shape string) (func(), func()) {
	if shape == "gate" {
		l := gateLockAt(rawObject(b, seg, "gl", 64))
		return l.lock, l.unlock
	}
	m := must(NewMutex(seg, "m"))
	return func() { _ = m.Lock() }, func() { _ = m.Unlock() }
}
