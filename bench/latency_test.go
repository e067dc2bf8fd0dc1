package bench

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
)

// BenchmarkLatency: Latency/<system>, one round trip per op. The
// benchmark's process sends a latencySize-byte message, a child sends it
// back; each round trip's duration goes into a slice allocated before the
// timer starts, and the run reports its p50-ns and p99-ns (nearest rank).
//
//	ringqueue        two SPSC rings, WaitSpin: spin (pause) then park
//	ringqueue-paced  the same with WaitPaced, a queue's default (checks 3 µs apart)
//	ringqueue-yield  the same with WaitYield (sched_yield, then park)
//	ringqueue-park   the same with WaitPark: every hand-off is a futex wake-up
//	socketpair       a unix stream socket pair, length-prefixed frames
//	python-pipe      Python's multiprocessing.Pipe() (python/latency.py)
func BenchmarkLatency(b *testing.B) {
	for _, p := range []struct {
		name   string
		policy ringqueue.WaitPolicy
	}{
		{"ringqueue", ringqueue.WaitSpin},
		{"ringqueue-paced", ringqueue.WaitPaced},
		{"ringqueue-yield", ringqueue.WaitYield},
		{"ringqueue-park", ringqueue.WaitPark},
	} {
		RunOnce(b, p.name, func(b *testing.B) { reportLatency(b, ringLatencyRound(b, b.N, p.policy)) })
	}
	RunOnce(b, "socketpair", func(b *testing.B) { reportLatency(b, socketLatencyRound(b, b.N)) })
	runPythonBench(b, "python-pipe", []string{"p50-ns", "p99-ns"}, "latency.py", "--size", strconv.Itoa(latencySize))
}

// reportLatency reports the percentiles of the round trips in ns.
func reportLatency(b *testing.B, ns []int64) {
	p50, p99 := latencyPercentiles(ns)
	b.ReportMetric(float64(p50), "p50-ns")
	b.ReportMetric(float64(p99), "p99-ns")
}

// ringEchoArg is what a ring echo child gets.
type ringEchoArg struct {
	Q, Back *ringqueue.Queue
	Gate    string
	N       int
	Policy  ringqueue.WaitPolicy
}

var ringEcho = procs.Register("bench-ring-echo", func(a ringEchoArg) (int, error) {
	defer a.Q.Detach()
	defer a.Back.Detach()
	a.Q.SetWaitPolicy(a.Policy)
	a.Back.SetWaitPolicy(a.Policy)
	g, err := openGate(a.Q.Segment(), a.Gate)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, a.Q.SlotSize())
	g.childReady()
	if err := g.waitStart(); err != nil {
		return 0, err
	}
	for i := 0; i < a.N; i++ {
		n, err := a.Q.Get(buf)
		if err != nil {
			return i, err
		}
		if err := a.Back.Put(buf[:n]); err != nil {
			return i, err
		}
	}
	g.childDone()
	return a.N, nil
})

// ringLatencyRound runs n round trips over two SPSC rings and returns
// their durations in ns.
func ringLatencyRound(b testing.TB, n int, policy ringqueue.WaitPolicy) []int64 {
	stopTimer(b)
	o := ringqueue.Options{Capacity: 64, SlotSize: latencySize, Mode: ringqueue.SPSC}
	qsize, err := ringqueue.Size(o)
	if err != nil {
		b.Fatal(err)
	}
	seg := testutil.Anonymous(b, 2*qsize+4*gateSize)
	q, err := ringqueue.New(seg, "ping", o)
	if err != nil {
		b.Fatal(err)
	}
	back, err := ringqueue.New(seg, "pong", o)
	if err != nil {
		b.Fatal(err)
	}
	q.SetWaitPolicy(policy)
	back.SetWaitPolicy(policy)
	g, err := newGate(seg, "gate")
	if err != nil {
		b.Fatal(err)
	}
	var c crew
	start(b, &c, ringEcho, ringEchoArg{Q: q, Back: back, Gate: "gate", N: n, Policy: policy})
	ns := make([]int64, n)
	msg := make([]byte, latencySize)
	buf := make([]byte, latencySize)
	timed(b, g, c, 1, func() error {
		for i := range ns {
			binary.LittleEndian.PutUint64(msg, uint64(i))
			t0 := time.Now()
			if err := q.Put(msg); err != nil {
				return err
			}
			if _, err := back.Get(buf); err != nil {
				return err
			}
			ns[i] = int64(time.Since(t0))
			if got := binary.LittleEndian.Uint64(buf); got != uint64(i) {
				return fmt.Errorf("round trip %d came back as %d", i, got)
			}
		}
		return nil
	})
	return ns
}

var streamEcho = procs.Register("bench-stream-echo", func(a streamArg) (int, error) {
	defer a.In.F.Close()
	g, err := openGate(a.Seg, a.Gate)
	if err != nil {
		return 0, err
	}
	fr := newFrameReader(a.In.F)
	fw := newFrameWriter(a.In.F, a.Size)
	buf := make([]byte, a.Size)
	g.childReady()
	if err := g.waitStart(); err != nil {
		return 0, err
	}
	for i := 0; i < a.N; i++ {
		n, err := fr.readFrame(buf)
		if err != nil {
			return i, err
		}
		if err := fw.writeFrame(buf[:n]); err != nil {
			return i, err
		}
	}
	g.childDone()
	return a.N, nil
})

// socketLatencyRound runs n round trips over a socket pair and returns
// their durations in ns.
func socketLatencyRound(b testing.TB, n int) []int64 {
	stopTimer(b)
	seg := testutil.Anonymous(b, 4*gateSize)
	g, err := newGate(seg, "gate")
	if err != nil {
		b.Fatal(err)
	}
	mine, theirs, err := blockingSocketpair()
	if err != nil {
		b.Fatal(err)
	}
	defer mine.Close()
	var c crew
	start(b, &c, streamEcho, streamArg{Seg: seg, Gate: "gate", In: passedFile{theirs}, N: n, Size: latencySize})
	theirs.Close()
	fr := newFrameReader(mine)
	fw := newFrameWriter(mine, latencySize)
	ns := make([]int64, n)
	msg := make([]byte, latencySize)
	buf := make([]byte, latencySize)
	timed(b, g, c, 1, func() error {
		for i := range ns {
			binary.LittleEndian.PutUint64(msg, uint64(i))
			t0 := time.Now()
			if err := fw.writeFrame(msg); err != nil {
				return err
			}
			n, err := fr.readFrame(buf)
			if err != nil {
				return err
			}
			ns[i] = int64(time.Since(t0))
			if got := binary.LittleEndian.Uint64(buf[:n]); got != uint64(i) {
				return fmt.Errorf("round trip %d came back as %d", i, got)
			}
		}
		return nil
	})
	return ns
}
