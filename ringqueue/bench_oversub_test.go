package ringqueue_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	. "github.com/multiproc-go/multiproc/ringqueue"
)

// BenchmarkOversubscribed: P producer and C consumer processes on one
// MPMC ring, with each wait policy, for the question of issue 15: what
// holds up when processes outnumber cores. Compare the policies within
// one run, on a quiet machine:
//
//	go test ./ringqueue -run '^$' -bench Oversubscribed -benchtime 300000x -count 6 | benchstat -col /policy -
//
// Every process is a child (as in bench's Scale); producers put their
// share and count themselves in (done, low half), then the benchmark's
// process closes the queue and consumers get until it is drained and
// count themselves out (done, high half). The timing ends there, before
// the processes are joined: an exit and a join cost milliseconds that
// have nothing to do with the queue.

type oversubArg struct {
	Q        *Queue
	Sync     string
	Producer bool
	N        int
	Policy   WaitPolicy
}

var oversubWork = procs.Register("ringqueue-bench-oversub", func(a oversubArg) (int, error) {
	defer a.Q.Detach()
	a.Q.SetWaitPolicy(a.Policy)
	sw, err := openSync(a.Q.Segment(), a.Sync)
	if err != nil {
		return 0, err
	}
	atomic.AddUint32(sw.ready, 1)
	spinUntil(sw.start)
	buf := make([]byte, a.Q.SlotSize())
	if a.Producer {
		for i := range a.N {
			if err := a.Q.Put(buf); err != nil {
				return i, err
			}
		}
		atomic.AddUint32(sw.done, 1)
		return a.N, nil
	}
	got := 0
	for {
		if _, err := a.Q.Get(buf); err != nil {
			if errors.Is(err, ErrClosed) {
				atomic.AddUint32(sw.done, 1<<16)
				return got, nil
			}
			return got, err
		}
		got++
	}
})

func BenchmarkOversubscribed(b *testing.B) {
	for _, pc := range [][2]int{{1, 1}, {1, 2}, {2, 1}, {2, 2}, {2, 3}, {3, 3}, {4, 2}, {4, 4}} {
		for _, policy := range []WaitPolicy{WaitPaced, WaitYield, WaitSpin, WaitPark} {
			b.Run(fmt.Sprintf("%dx%d/policy=%s", pc[0], pc[1], policy), func(b *testing.B) {
				benchOversub(b, pc[0], pc[1], policy)
			})
		}
	}
}

func benchOversub(b *testing.B, np, nc int, policy WaitPolicy) {
	q, _, sw := benchPair(b, Options{Capacity: 1024, SlotSize: 64, Mode: MPMC}, false)
	var kids []*procs.Process
	defer func() {
		for _, p := range kids {
			_ = p.Kill()
			_ = p.JoinTimeout(time.Minute)
		}
	}()
	for i := range np + nc {
		share := 0
		if i < np {
			share = b.N / np
			if i < b.N%np {
				share++
			}
		}
		p, err := procs.Start(oversubWork, oversubArg{Q: q, Sync: "sync", Producer: i < np, N: share, Policy: policy})
		if err != nil {
			b.Fatal(err)
		}
		kids = append(kids, p)
	}
	for atomic.LoadUint32(sw.ready) < uint32(np+nc) {
		time.Sleep(100 * time.Microsecond) // set-up, outside the timing
	}
	b.ResetTimer()
	start := time.Now()
	atomic.StoreUint32(sw.start, 1)
	for atomic.LoadUint32(sw.done)&0xffff < uint32(np) {
		time.Sleep(20 * time.Microsecond) // the parent takes no core from the children
	}
	if err := q.Close(); err != nil {
		b.Fatal(err)
	}
	for atomic.LoadUint32(sw.done)>>16 < uint32(nc) {
		time.Sleep(20 * time.Microsecond)
	}
	el := time.Since(start)
	b.StopTimer()
	got := 0
	for _, p := range kids[np:] {
		if err := p.JoinTimeout(time.Minute); err != nil {
			b.Fatal(err)
		}
		n, err := procs.Result[int](p)
		if err != nil {
			b.Fatal(err)
		}
		got += n
	}
	if got != b.N {
		b.Fatalf("consumers got %d, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
}
