package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
)

// BenchmarkScale: Scale/mpmc-<P>x<C>, P producer and C consumer processes
// (all children) on one MPMC ring of scaleSize-byte messages, b.N messages
// in all, reporting msgs/s. Producers put their share and count in on the
// gate's mark; when all have, the benchmark's process closes the queue and
// the consumers, which get until the queue is closed and drained, count in
// as done. The consumers' counts must add up to b.N.
func BenchmarkScale(b *testing.B) {
	for p := 1; p <= 4; p++ {
		for c := 1; c <= 4; c++ {
			RunOnce(b, fmt.Sprintf("mpmc-%dx%d", p, c), func(b *testing.B) {
				scaleRound(b, b.N, p, c)
				reportRate(b, b.N, "msgs/s")
			})
		}
	}
	RunOnce(b, "chan-4x4", func(b *testing.B) {
		chanScaleRound(b, b.N, 4, 4)
		reportRate(b, b.N, "msgs/s")
	})
}

// chanScaleRound is Scale's reference in one process: np producer and nc
// consumer goroutines on a buffered channel of scaleSlots [scaleSize]byte
// values (copied in and out as the ring's messages are), n in all.
func chanScaleRound(b testing.TB, n, np, nc int) {
	stopTimer(b)
	clock, _ := b.(timer)
	ch := make(chan [scaleSize]byte, scaleSlots)
	ready := make(chan struct{})
	var prod, cons sync.WaitGroup
	counts := make([]int, nc)
	for i := range np {
		share := n / np
		if i < n%np {
			share++
		}
		prod.Go(func() {
			var m [scaleSize]byte
			<-ready
			for j := range share {
				binary.LittleEndian.PutUint64(m[:], uint64(j))
				ch <- m
			}
		})
	}
	for i := range nc {
		cons.Go(func() {
			<-ready
			for range ch {
				counts[i]++
			}
		})
	}
	if clock != nil {
		clock.StartTimer()
	}
	close(ready)
	prod.Wait()
	close(ch)
	cons.Wait()
	stopTimer(b)
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != n {
		b.Fatalf("consumers got %d messages, want %d", total, n)
	}
}

const (
	scaleSize  = 64
	scaleSlots = 1024
)

type scaleArg struct {
	Q        *ringqueue.Queue
	Gate     string
	Producer bool
	From, N  int // producer: messages [From, From+N)
}

var scaleWork = procs.Register("bench-scale-work", func(a scaleArg) (int, error) {
	defer a.Q.Detach()
	g, err := openGate(a.Q.Segment(), a.Gate)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, a.Q.SlotSize())
	g.childReady()
	if err := g.waitStart(); err != nil {
		return 0, err
	}
	if a.Producer {
		for i := a.From; i < a.From+a.N; i++ {
			binary.LittleEndian.PutUint64(buf, uint64(i))
			if err := a.Q.Put(buf); err != nil {
				return i - a.From, err
			}
		}
		arrive(g.mark)
		return a.N, nil
	}
	got := 0
	for {
		if _, err := a.Q.Get(buf); err != nil {
			if errors.Is(err, ringqueue.ErrClosed) {
				break
			}
			return got, err
		}
		got++
	}
	g.childDone()
	return got, nil
})

// scaleRound runs one round of Scale: n messages from np producers to nc
// consumers.
func scaleRound(b testing.TB, n, np, nc int) {
	stopTimer(b)
	o := ringqueue.Options{Capacity: scaleSlots, SlotSize: scaleSize, Mode: ringqueue.MPMC}
	qsize, err := ringqueue.Size(o)
	if err != nil {
		b.Fatal(err)
	}
	seg := testutil.Anonymous(b, qsize+4*gateSize)
	q, err := ringqueue.New(seg, "q", o)
	if err != nil {
		b.Fatal(err)
	}
	g, err := newGate(seg, "gate")
	if err != nil {
		b.Fatal(err)
	}
	var producers, consumers crew
	from := 0
	for i := range np {
		share := n / np
		if i < n%np {
			share++
		}
		start(b, &producers, scaleWork, scaleArg{Q: q, Gate: "gate", Producer: true, From: from, N: share})
		from += share
	}
	for range nc {
		start(b, &consumers, scaleWork, scaleArg{Q: q, Gate: "gate"})
	}
	all := append(append(crew{}, producers...), consumers...)
	total := timed(b, g, all, nc, func() error {
		if err := await(g.mark, uint32(np), all.exited); err != nil {
			return err
		}
		return q.Close()
	})
	// Producers return their share only when all of it is put, so they add
	// up to n; the rest is what the consumers got.
	if got := total - n; got != n {
		b.Fatalf("consumers got %d messages, want %d", got, n)
	}
}
