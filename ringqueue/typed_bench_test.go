package ringqueue_test

import (
	"encoding/gob"
	"fmt"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
)

// Typed queue benchmarks. Indicative only on a shared machine: compare
// sub-benchmarks of one run, not runs.
//
//	go test ./ringqueue -run '^$' -bench 'Typed' -benchmem

type (
	tb8  struct{ Seq uint64 }
	tb64 struct {
		Seq uint64
		Pad [7]uint64
	}
)

func tbQueue[T any](b *testing.B, o ringqueue.Options) *ringqueue.Typed[T] {
	b.Helper()
	n, err := ringqueue.TypedSize[T](o)
	if err != nil {
		b.Fatal(err)
	}
	seg, err := shm.Anonymous(n + 8192)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = seg.Close() })
	q, err := ringqueue.NewTyped[T](seg, "bench", o)
	if err != nil {
		b.Fatal(err)
	}
	return q
}

// benchPutGet puts and gets one value per op in one goroutine: the cost
// of the typed layer and its codec, without any waiting.
func benchPutGet[T any](b *testing.B, o ringqueue.Options, v T) {
	q := tbQueue[T](b, o)
	b.ReportAllocs()
	for b.Loop() {
		if err := q.Put(v); err != nil {
			b.Fatal(err)
		}
		if _, err := q.Get(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTypedPutGet(b *testing.B) {
	doc := tpDocFor(3, 3)
	gob.Register(tb64{})
	b.Run("bytes-64B", func(b *testing.B) { // the byte API, for comparison
		n, _ := ringqueue.Size(ringqueue.Options{Capacity: 64, SlotSize: 64})
		seg, err := shm.Anonymous(n + 8192)
		if err != nil {
			b.Fatal(err)
		}
		defer seg.Close()
		q, err := ringqueue.New(seg, "bench", ringqueue.Options{Capacity: 64, SlotSize: 64})
		if err != nil {
			b.Fatal(err)
		}
		msg, buf := make([]byte, 64), make([]byte, 64)
		b.ReportAllocs()
		for b.Loop() {
			if err := q.Put(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := q.Get(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-8B", func(b *testing.B) { benchPutGet(b, ringqueue.Options{Capacity: 64}, tb8{Seq: 1}) })
	b.Run("raw-64B", func(b *testing.B) { benchPutGet(b, ringqueue.Options{Capacity: 64}, tb64{Seq: 1}) })
	b.Run("raw-64B-SPSC", func(b *testing.B) {
		benchPutGet(b, ringqueue.Options{Capacity: 64, Mode: ringqueue.SPSC}, tb64{Seq: 1})
	})
	b.Run("gob-string", func(b *testing.B) {
		benchPutGet(b, ringqueue.Options{Capacity: 64}, "a short string of some 40 bytes or so....")
	})
	b.Run("gob-struct", func(b *testing.B) { benchPutGet(b, ringqueue.Options{Capacity: 64, SlotSize: 512}, doc) })
	b.Run("gob-interface", func(b *testing.B) { // fresh encoder and decoder per message
		benchPutGet[any](b, ringqueue.Options{Capacity: 64, SlotSize: 512}, tb64{Seq: 1})
	})
}

func BenchmarkTypedBatch64B(b *testing.B) {
	q := tbQueue[tb64](b, ringqueue.Options{Capacity: 256})
	src := make([]tb64, 64)
	dst := make([]tb64, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.PutBatch(src); err != nil {
			b.Fatal(err)
		}
		if _, err := q.GetBatch(dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(src))/b.Elapsed().Seconds(), "msgs/s")
}

// Cross-process: a child produces N+1 values, the parent consumes them.
// The clock starts once the first value arrived, so the child's start-up
// is not measured.

type tbArg[T any] struct {
	Q     *ringqueue.Typed[T]
	N     int
	Batch int // 0: Put one at a time; else PutBatch of this many
}

func tbProduce[T any](a tbArg[T], mk func(i int) T) (int, error) {
	defer a.Q.Detach()
	if a.Batch == 0 {
		for i := range a.N {
			if err := a.Q.Put(mk(i)); err != nil {
				return i, err
			}
		}
		return a.N, nil
	}
	buf := make([]T, a.Batch)
	for i := 0; i < a.N; {
		k := min(a.Batch, a.N-i)
		for j := range k {
			buf[j] = mk(i + j)
		}
		if _, err := a.Q.PutBatch(buf[:k]); err != nil {
			return i, err
		}
		i += k
	}
	return a.N, nil
}

var (
	tbProduce8 = procs.Register("ringqueue-typed-bench-produce-8", func(a tbArg[tb8]) (int, error) {
		return tbProduce(a, func(i int) tb8 { return tb8{Seq: uint64(i)} })
	})
	tbProduce64 = procs.Register("ringqueue-typed-bench-produce-64", func(a tbArg[tb64]) (int, error) {
		return tbProduce(a, func(i int) tb64 { return tb64{Seq: uint64(i)} })
	})
	tbProduceDoc = procs.Register("ringqueue-typed-bench-produce-doc", func(a tbArg[tpDoc]) (int, error) {
		return tbProduce(a, func(i int) tpDoc { d := tpDocFor(1, i%64); return d })
	})
)

func benchCross[T any](b *testing.B, f *procs.Func[tbArg[T], int], o ringqueue.Options, batch int, seq func(T) uint64) {
	tpRequireMain()
	q := tbQueue[T](b, o)
	p, err := procs.Start(f, tbArg[T]{Q: q, N: b.N + 1, Batch: batch})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.Kill(); _ = p.Join() }()
	if _, err := q.GetTimeout(time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	got, wrong := 0, 0
	if batch == 0 {
		for got < b.N {
			v, err := q.Get()
			if err != nil {
				b.Fatal(err)
			}
			got++
			if seq != nil && seq(v) != uint64(got) {
				wrong++
			}
		}
	} else {
		dst := make([]T, batch)
		for got < b.N {
			k, err := q.GetBatch(dst[:min(batch, b.N-got)])
			if err != nil {
				b.Fatal(err)
			}
			for _, v := range dst[:k] {
				got++
				if seq != nil && seq(v) != uint64(got) {
					wrong++
				}
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if wrong != 0 {
		b.Fatalf("%d values out of order", wrong)
	}
	if err := p.JoinTimeout(time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

func BenchmarkTypedCrossProcess(b *testing.B) {
	for _, mode := range []ringqueue.Mode{ringqueue.SPSC, ringqueue.MPMC} {
		o := ringqueue.Options{Capacity: 1024, Mode: mode}
		for _, batch := range []int{0, 64} {
			form := "single"
			if batch > 0 {
				form = fmt.Sprintf("batch%d", batch)
			}
			b.Run(fmt.Sprintf("%v/8B/%s", mode, form), func(b *testing.B) {
				benchCross(b, tbProduce8, o, batch, func(v tb8) uint64 { return v.Seq })
			})
			b.Run(fmt.Sprintf("%v/64B/%s", mode, form), func(b *testing.B) {
				benchCross(b, tbProduce64, o, batch, func(v tb64) uint64 { return v.Seq })
			})
		}
	}
	b.Run("MPMC/gob-struct/single", func(b *testing.B) {
		benchCross[tpDoc](b, tbProduceDoc, ringqueue.Options{Capacity: 1024, SlotSize: 512}, 0, nil)
	})
}
