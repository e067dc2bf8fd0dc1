package ringqueue_test

import (
	"fmt"
	. "github.com/multiproc-go/multiproc/ringqueue"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
)

// Cross-process benchmarks: the benchmark's process is one side, a child
// started through procs the other; both run inside the timed region, which
// starts when the child is ready and ends when both are done.

// benchArg tells a benchmark child what to do.
type benchArg struct {
	Q      *Queue // child reads (or, for pingpong, reads and answers on Back)
	Back   *Queue
	Sync   string // name of the sync words object in Q's segment
	N      int
	Batch  int
	Policy WaitPolicy
}

// syncWords: ready (child -> parent), start (parent -> child), done (child -> parent).
type syncWords struct{ ready, start, done *uint32 }

func openSync(seg *shm.Segment, name string) (syncWords, error) {
	obj, err := seg.Lookup(name)
	if err != nil {
		return syncWords{}, err
	}
	return syncWords{obj.Uint32(0), obj.Uint32(4), obj.Uint32(8)}, nil
}

// spinUntil waits, yielding, until *w is non-zero.
func spinUntil(w *uint32) {
	for atomic.LoadUint32(w) == 0 {
		schedYield()
	}
}

func (a benchArg) begin() (syncWords, error) {
	a.Q.SetWaitPolicy(a.Policy)
	if a.Back != nil {
		a.Back.SetWaitPolicy(a.Policy)
	}
	sw, err := openSync(a.Q.Segment(), a.Sync)
	if err != nil {
		return sw, err
	}
	atomic.StoreUint32(sw.ready, 1)
	spinUntil(sw.start)
	return sw, nil
}

var (
	// benchConsume gets N messages, one at a time (Batch 0) or in batches.
	benchConsume = procs.Register("ringqueue-bench-consume", func(a benchArg) (int, error) {
		sw, err := a.begin()
		if err != nil {
			return 0, err
		}
		buf := make([]byte, a.Q.SlotSize())
		got := 0
		for got < a.N {
			if a.Batch > 0 {
				k, err := a.Q.GetBatch(a.Batch, func([]byte) {})
				if err != nil {
					return got, err
				}
				got += k
				continue
			}
			if _, err := a.Q.Get(buf); err != nil {
				return got, err
			}
			got++
		}
		atomic.StoreUint32(sw.done, 1)
		return got, nil
	})

	// benchEcho answers every message of Q on Back, N times.
	benchEcho = procs.Register("ringqueue-bench-echo", func(a benchArg) (int, error) {
		sw, err := a.begin()
		if err != nil {
			return 0, err
		}
		buf := make([]byte, a.Q.SlotSize())
		for i := 0; i < a.N; i++ {
			n, err := a.Q.Get(buf)
			if err != nil {
				return i, err
			}
			if err := a.Back.Put(buf[:n]); err != nil {
				return i, err
			}
		}
		atomic.StoreUint32(sw.done, 1)
		return a.N, nil
	})
)

// benchPair makes a segment with a queue (and a back queue if back) and
// sync words.
func benchPair(b *testing.B, o Options, back bool) (*Queue, *Queue, syncWords) {
	b.Helper()
	size, err := Size(o)
	if err != nil {
		b.Fatal(err)
	}
	seg := newSeg(b, 2*size+8192)
	q, err := New(seg, "q", o)
	if err != nil {
		b.Fatal(err)
	}
	var bq *Queue
	if back {
		if bq, err = New(seg, "back", o); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := seg.Create(shm.Spec{Name: "sync", Kind: shm.KindBytes, Size: 64}, nil); err != nil {
		b.Fatal(err)
	}
	sw, err := openSync(seg, "sync")
	if err != nil {
		b.Fatal(err)
	}
	return q, bq, sw
}

// runCross starts child with arg, waits for it to be ready, runs produce
// timed, waits for the child's done word, and reports msgs/s.
func runCross(b *testing.B, child *procs.Func[benchArg, int], arg benchArg, sw syncWords, produce func()) {
	b.Helper()
	p, err := procs.Start(child, arg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := p.JoinTimeout(60 * time.Second); err != nil {
			b.Error(err)
		}
	}()
	spinUntil(sw.ready)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	atomic.StoreUint32(sw.start, 1)
	produce()
	spinUntil(sw.done)
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
}

// streamCap is the stream benchmarks' ring: 16384 slots (1.2 MB at 64 B).
// Smaller rings measured slower and noisier here (4096 slots: SPSC 64 B
// 26-47 M msgs/s against 38-44 M), probably because a slot's line then
// still sits in the consumer's cache when the producer comes round to it
// again and every write pays a cross-core invalidation.
const streamCap = 16384

func benchStream(b *testing.B, mode Mode, size, batch int, policy WaitPolicy) {
	q, _, sw := benchPair(b, Options{Capacity: streamCap, SlotSize: max(size, 8), Mode: mode}, false)
	q.SetWaitPolicy(policy)
	msg := make([]byte, size)
	arg := benchArg{Q: q, Sync: "sync", N: b.N, Batch: batch, Policy: policy}
	runCross(b, benchConsume, arg, sw, func() {
		if batch > 0 {
			msgs := make([][]byte, batch)
			for i := range msgs {
				msgs[i] = msg
			}
			for sent := 0; sent < b.N; {
				k, err := q.PutBatch(msgs[:min(batch, b.N-sent)])
				if err != nil {
					b.Error(err)
					return
				}
				sent += k
			}
			return
		}
		for i := 0; i < b.N; i++ {
			if err := q.Put(msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCrossProcess: the aims (indicative on a shared VM).
func BenchmarkCrossProcess(b *testing.B) {
	b.Run("SPSC/64B", func(b *testing.B) { benchStream(b, SPSC, 64, 0, WaitPaced) })
	b.Run("SPSC/8B/batch256", func(b *testing.B) { benchStream(b, SPSC, 8, 256, WaitPaced) })
	b.Run("SPSC/64B/batch256", func(b *testing.B) { benchStream(b, SPSC, 64, 256, WaitPaced) })
	b.Run("MPMC-1P1C/64B", func(b *testing.B) { benchStream(b, MPMC, 64, 0, WaitPaced) })
	b.Run("MPMC-1P1C/8B", func(b *testing.B) { benchStream(b, MPMC, 8, 0, WaitPaced) })
	b.Run("MPMC-1P1C/8B/batch256", func(b *testing.B) { benchStream(b, MPMC, 8, 256, WaitPaced) })
	b.Run("MPMC-1P1C/64B/WaitSpin", func(b *testing.B) { benchStream(b, MPMC, 64, 0, WaitSpin) })
}

// BenchmarkWaitPolicy compares the ways to wait before parking, SPSC 64 B
// and MPMC 64 B cross-process, in one run.
func BenchmarkWaitPolicy(b *testing.B) {
	for _, mode := range []Mode{SPSC, MPMC} {
		for _, p := range []WaitPolicy{WaitPaced, WaitYield, WaitSpin, WaitPark} {
			b.Run(fmt.Sprintf("%s/%s", mode, p), func(b *testing.B) { benchStream(b, mode, 64, 0, p) })
		}
	}
}

// BenchmarkPingPong measures a round trip between two processes over two
// queues and reports p50/p99: with spinning allowed (WaitSpin) and with
// the default policy.
func BenchmarkPingPong(b *testing.B) {
	for _, c := range []struct {
		mode   Mode
		policy WaitPolicy
	}{{SPSC, WaitSpin}, {MPMC, WaitSpin}, {SPSC, WaitPaced}, {SPSC, WaitYield}, {SPSC, WaitPark}} {
		b.Run(c.mode.String()+"/"+c.policy.String(), func(b *testing.B) {
			q, back, sw := benchPair(b, Options{Capacity: 64, SlotSize: 64, Mode: c.mode}, true)
			q.SetWaitPolicy(c.policy)
			back.SetWaitPolicy(c.policy)
			lat := make([]int64, b.N)
			msg := make([]byte, 8)
			buf := make([]byte, 64)
			arg := benchArg{Q: q, Back: back, Sync: "sync", N: b.N, Policy: c.policy}
			runCross(b, benchEcho, arg, sw, func() {
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					if err := q.Put(msg); err != nil {
						b.Error(err)
						return
					}
					if _, err := back.Get(buf); err != nil {
						b.Error(err)
						return
					}
					lat[i] = int64(time.Since(t0))
				}
			})
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2]), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
		})
	}
}

// BenchmarkUncontended: put then get in one goroutine, nobody ever waits:
// no allocation, no system call (check with strace -f -c).
func BenchmarkUncontended(b *testing.B) {
	for _, mode := range []Mode{SPSC, MPMC} {
		q := newQueue(b, Options{Capacity: 1024, SlotSize: 64, Mode: mode})
		msg := make([]byte, 64)
		buf := make([]byte, 64)
		b.Run(mode.String()+"/PutGet", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := q.Put(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := q.Get(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.String()+"/TryPutTryGet", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := q.TryPut(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := q.TryGet(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.String()+"/ReserveTake", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r, err := q.Reserve(64)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Commit(64); err != nil {
					b.Fatal(err)
				}
				m, err := q.Take()
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Release(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.String()+"/Batch64", func(b *testing.B) {
			msgs := make([][]byte, 64)
			for i := range msgs {
				msgs[i] = msg[:8]
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i += 64 {
				if _, err := q.PutBatch(msgs); err != nil {
					b.Fatal(err)
				}
				if _, err := q.GetBatch(64, func([]byte) {}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.String()+"/EmptyTryGet", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := q.TryGet(buf); err == nil {
					b.Fatal("not empty")
				}
			}
		})
	}
}

// BenchmarkChannelBaseline is what Go users pick within one process: a
// buffered channel of [64]byte between two goroutines.
func BenchmarkChannelBaseline(b *testing.B) {
	ch := make(chan [64]byte, 4096)
	done := make(chan struct{})
	go func() {
		for i := 0; i < b.N; i++ {
			<-ch
		}
		close(done)
	}()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		ch <- [64]byte{}
	}
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	runtime.KeepAlive(ch)
}
