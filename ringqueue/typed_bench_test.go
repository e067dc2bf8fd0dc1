package ringqueue_test

import (
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
)

// cpuNow is this process's CPU time so far (user and system). The
// in-process benchmarks report it per op beside the wall time: on a
// machine shared with other jobs, a descheduled benchmark's wall time
// grows and its CPU time does not, so the CPU figure is the steadier one
// to compare the byte and typed rows by.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
}

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
	b.Cleanup(func() { _ = seg.Detach() })
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
	cpu := cpuNow()
	for b.Loop() {
		if err := q.Put(v); err != nil {
			b.Fatal(err)
		}
		if _, err := q.Get(); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// benchPutGetBytes is benchPutGet through the byte API.
func benchPutGetBytes(b *testing.B, mode ringqueue.Mode) {
	o := ringqueue.Options{Capacity: 64, SlotSize: 64, Mode: mode}
	n, _ := ringqueue.Size(o)
	seg, err := shm.Anonymous(n + 8192)
	if err != nil {
		b.Fatal(err)
	}
	defer seg.Detach()
	q, err := ringqueue.New(seg, "bench", o)
	if err != nil {
		b.Fatal(err)
	}
	msg, buf := make([]byte, 64), make([]byte, 64)
	b.ReportAllocs()
	cpu := cpuNow()
	for b.Loop() {
		if err := q.Put(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := q.Get(buf); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

func BenchmarkTypedPutGet(b *testing.B) {
	doc := tpDocFor(3, 3)
	gob.Register(tb64{})
	b.Run("bytes-64B", func(b *testing.B) { benchPutGetBytes(b, ringqueue.MPMC) }) // the byte API, for comparison
	b.Run("bytes-64B-SPSC", func(b *testing.B) { benchPutGetBytes(b, ringqueue.SPSC) })
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

// BenchmarkTypedBatch64B puts and gets batches of 64 values of 64 bytes
// in one goroutine, through the byte API (PutBatchFunc copying from, and
// GetBatch copying into, arrays of 64-byte messages) and through
// Typed[T]: the typed layer's batch cost without any waiting.
func BenchmarkTypedBatch64B(b *testing.B) {
	for _, mode := range []ringqueue.Mode{ringqueue.SPSC, ringqueue.MPMC} {
		o := ringqueue.Options{Capacity: 256, Mode: mode}
		b.Run(fmt.Sprintf("%v/api=bytes", mode), func(b *testing.B) {
			q := tbQueue[tb64](b, o).Queue()
			src := make([][64]byte, 64)
			dst := make([][64]byte, 64)
			fill := func(i int, slot []byte) int { return copy(slot, src[i][:]) }
			n := 0
			get := func(m []byte) { copy(dst[n][:], m); n++ }
			b.ReportAllocs()
			cpu := cpuNow()
			for b.Loop() {
				if _, err := q.PutBatchFunc(len(src), fill); err != nil {
					b.Fatal(err)
				}
				n = 0
				if _, err := q.GetBatch(len(dst), get); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(src))/b.Elapsed().Seconds(), "msgs/s")
			reportCPU(b, cpu)
		})
		b.Run(fmt.Sprintf("%v/api=typed", mode), func(b *testing.B) {
			q := tbQueue[tb64](b, o)
			src := make([]tb64, 64)
			dst := make([]tb64, 64)
			b.ReportAllocs()
			cpu := cpuNow()
			for b.Loop() {
				if _, err := q.PutBatch(src); err != nil {
					b.Fatal(err)
				}
				if _, err := q.GetBatch(dst); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(src))/b.Elapsed().Seconds(), "msgs/s")
			reportCPU(b, cpu)
		})
	}
}

// Cross-process: a child produces N+1 values, the parent consumes them.
// The clock starts once the first value arrived, so the child's start-up
// is not measured.

type tbArg[T any] struct {
	Q     *ringqueue.Typed[T]
	N     int
	Batch int  // 0: Put one at a time; else PutBatch of this many
	Bytes bool // use the byte API underneath instead (BenchmarkTypedVsBytes)
	// Ahead: fill each value (or byte buffer) four messages before it is
	// put, from a ring of eight, so that the put does not read back a
	// store just made (BenchmarkTypedVsBytes's single-ahead rows; see
	// typed_raw.go).
	Ahead bool
}

// tbResult is what a producing child reports: how many values it put,
// and the CPU time its process spent putting them (user and system), so
// that the benchmark can report the CPU per message of both sides.
type tbResult struct {
	N   int
	CPU time.Duration
}

// tbTimed runs a producer and measures its CPU time.
func tbTimed(produce func() (int, error)) (tbResult, error) {
	cpu := cpuNow()
	n, err := produce()
	return tbResult{N: n, CPU: cpuNow() - cpu}, err
}

func tbProduce[T any](a tbArg[T], mk func(i int) T) (int, error) {
	defer a.Q.Detach()
	if a.Bytes {
		return tbProduceBytes(a.Q.Queue(), a.N, a.Batch, false)
	}
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
	tbProduce8 = procs.Register("ringqueue-typed-bench-produce-8", func(a tbArg[tb8]) (tbResult, error) {
		return tbTimed(func() (int, error) { return tbProduce(a, func(i int) tb8 { return tb8{Seq: uint64(i)} }) })
	})
	tbProduce64 = procs.Register("ringqueue-typed-bench-produce-64", func(a tbArg[tb64]) (tbResult, error) {
		return tbTimed(func() (int, error) { return tbProduce(a, func(i int) tb64 { return tb64{Seq: uint64(i)} }) })
	})
	// tbProduce64Same fills one value and sets its sequence number per
	// message, as the byte producer fills one buffer: the two differ only
	// in the API (BenchmarkTypedVsBytes).
	// (Not through tbProduce: its generic mk call per value, returning
	// 64 bytes, took a fifth of the producer's time in a profile, work
	// the byte producer does not do.)
	tbProduce64Same = procs.Register("ringqueue-typed-bench-produce-64-same", func(a tbArg[tb64]) (tbResult, error) {
		return tbTimed(func() (int, error) { return tbProduceSame(a) })
	})
	tbProduceDoc = procs.Register("ringqueue-typed-bench-produce-doc", func(a tbArg[tpDoc]) (tbResult, error) {
		return tbTimed(func() (int, error) {
			return tbProduce(a, func(i int) tpDoc { d := tpDocFor(1, i%64); return d })
		})
	})
)

// tbProduceSame is tbProduce64Same's producer.
func tbProduceSame(a tbArg[tb64]) (int, error) {
	defer a.Q.Detach()
	if a.Bytes {
		return tbProduceBytes(a.Q.Queue(), a.N, a.Batch, a.Ahead)
	}
	if a.Batch == 0 && a.Ahead {
		var vs [8]tb64
		for i := range 4 {
			vs[i].Seq = uint64(i)
		}
		for i := range a.N {
			vs[(i+4)&7].Seq = uint64(i + 4)
			if err := a.Q.Put(vs[i&7]); err != nil {
				return i, err
			}
		}
		return a.N, nil
	}
	if a.Batch == 0 {
		var v tb64
		for i := range a.N {
			v.Seq = uint64(i)
			if err := a.Q.Put(v); err != nil {
				return i, err
			}
		}
		return a.N, nil
	}
	buf := make([]tb64, a.Batch)
	for i := 0; i < a.N; {
		k := min(a.Batch, a.N-i)
		for j := range k {
			buf[j].Seq = uint64(i + j)
		}
		if _, err := a.Q.PutBatch(buf[:k]); err != nil {
			return i, err
		}
		i += k
	}
	return a.N, nil
}

func benchCross[T any](b *testing.B, f *procs.Func[tbArg[T], tbResult], o ringqueue.Options, batch int, seq func(*T) uint64) {
	benchCrossAPI(b, f, o, batch, seq, false, false)
}

// benchCrossAPI is benchCross through the typed API or, with bytes, the
// byte API of the same queue (same ring, same child, same checks). seq
// takes a pointer: passing each 64-byte value to it by value was a copy
// per message that the byte consumer does not make.
func benchCrossAPI[T any](b *testing.B, f *procs.Func[tbArg[T], tbResult], o ringqueue.Options, batch int, seq func(*T) uint64, bytes, ahead bool) {
	tpRequireMain()
	q := tbQueue[T](b, o)
	p, err := procs.Start(f, tbArg[T]{Q: q, N: b.N + 1, Batch: batch, Bytes: bytes, Ahead: ahead})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.Kill(); _ = p.Join() }()
	if _, err := q.GetTimeout(time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuNow()
	got, wrong := 0, 0
	if bytes {
		_, wrong = tbConsumeBytes(b, q.Queue(), b.N, batch)
	} else if batch == 0 {
		var v T // outside the loop: &v escapes to seq, once
		for got < b.N {
			var err error
			if v, err = q.Get(); err != nil {
				b.Fatal(err)
			}
			got++
			if seq != nil && seq(&v) != uint64(got) {
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
			for j := range dst[:k] {
				got++
				if seq != nil && seq(&dst[j]) != uint64(got) {
					wrong++
				}
			}
		}
	}
	elapsed, cpu := time.Since(start), cpuNow()-cpu
	b.StopTimer()
	if wrong != 0 {
		b.Fatalf("%d values out of order", wrong)
	}
	if err := p.JoinTimeout(time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	// CPU per message, of the consumer (this process) and of both. On a
	// machine shared with other jobs these move less than the wall time:
	// a descheduled side adds wall time and no CPU. A waiting side's
	// spinning and yielding are CPU too, though: compare with care.
	if r, err := procs.Result[tbResult](p); err == nil {
		b.ReportMetric(float64(cpu)/float64(b.N), "cons-cpu-ns/op")
		b.ReportMetric(float64(cpu+r.CPU)/float64(b.N), "cpu-ns/op")
	}
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
				benchCross(b, tbProduce8, o, batch, func(v *tb8) uint64 { return v.Seq })
			})
			b.Run(fmt.Sprintf("%v/64B/%s", mode, form), func(b *testing.B) {
				benchCross(b, tbProduce64, o, batch, func(v *tb64) uint64 { return v.Seq })
			})
		}
	}
	b.Run("MPMC/gob-struct/single", func(b *testing.B) {
		benchCross[tpDoc](b, tbProduceDoc, ringqueue.Options{Capacity: 1024, SlotSize: 512}, 0, nil)
	})
}

// tbProduceBytes is tbProduce through the byte API: n messages of the
// queue's slot size, message i carrying i in its first 8 bytes.
func tbProduceBytes(q *ringqueue.Queue, n, batch int, ahead bool) (int, error) {
	msg := make([]byte, q.SlotSize())
	if batch == 0 && ahead {
		var msgs [8][]byte
		for i := range msgs {
			msgs[i] = make([]byte, q.SlotSize())
			binary.LittleEndian.PutUint64(msgs[i], uint64(i))
		}
		for i := range n {
			binary.LittleEndian.PutUint64(msgs[(i+4)&7], uint64(i+4))
			if err := q.Put(msgs[i&7]); err != nil {
				return i, err
			}
		}
		return n, nil
	}
	if batch == 0 {
		for i := range n {
			binary.LittleEndian.PutUint64(msg, uint64(i))
			if err := q.Put(msg); err != nil {
				return i, err
			}
		}
		return n, nil
	}
	for i := 0; i < n; {
		k, err := q.PutBatchFunc(min(batch, n-i), func(j int, slot []byte) int {
			binary.LittleEndian.PutUint64(msg, uint64(i+j))
			return copy(slot, msg)
		})
		if err != nil {
			return i, err
		}
		i += k
	}
	return n, nil
}

// tbConsumeBytes consumes n messages through the byte API, copying each
// out as the typed Get does, and counts those out of order.
func tbConsumeBytes(b *testing.B, q *ringqueue.Queue, n, batch int) (got, wrong int) {
	buf := make([]byte, q.SlotSize())
	check := func(m []byte) {
		got++
		if binary.LittleEndian.Uint64(m) != uint64(got) {
			wrong++
		}
	}
	for got < n {
		if batch == 0 {
			k, err := q.Get(buf)
			if err != nil {
				b.Fatal(err)
			}
			check(buf[:k])
			continue
		}
		if _, err := q.GetBatch(min(batch, n-got), func(m []byte) { check(buf[:copy(buf, m)]) }); err != nil {
			b.Fatal(err)
		}
	}
	return got, wrong
}

// BenchmarkTypedVsBytes: the typed layer's cost, as the same queue moved
// through the byte API and through Typed[T] with a 64-byte raw T, one
// value at a time and in batches of 64, cross-process. Adjacent
// sub-benchmarks differ only in the API. The single-ahead rows fill each
// value four messages before putting it (Ahead): the single rows' typed
// producer passes a value just written, and reading that back stalls on
// store forwarding (typed_raw.go). Compare them with
//
//	go test ./ringqueue -run '^$' -bench TypedVsBytes -count 10 | benchstat -col /api -
func BenchmarkTypedVsBytes(b *testing.B) {
	for _, mode := range []ringqueue.Mode{ringqueue.SPSC, ringqueue.MPMC} {
		o := ringqueue.Options{Capacity: 1024, Mode: mode}
		for _, form := range []string{"single", "single-ahead", "batch64"} {
			batch := 0
			if form == "batch64" {
				batch = 64
			}
			for _, api := range []string{"bytes", "typed"} {
				b.Run(fmt.Sprintf("%v/64B/%s/api=%s", mode, form, api), func(b *testing.B) {
					benchCrossAPI(b, tbProduce64Same, o, batch, func(v *tb64) uint64 { return v.Seq }, api == "bytes", form == "single-ahead")
				})
			}
		}
	}
}
