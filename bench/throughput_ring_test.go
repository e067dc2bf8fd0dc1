package bench

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
)

// Throughput/ringqueue-*: the benchmark's process puts b.N messages, a child
// process gets them. Every message is copied in (Put) and out (Get, or a copy
// out of GetBatch's slot), as through a pipe; its first 8 bytes carry its
// sequence number, which the consumer checks.

// ringArg is what a ring consumer child gets.
type ringArg struct {
	Q     *ringqueue.Queue
	Gate  string
	N     int
	Batch int // 0: Get one at a time; else GetBatch(Batch)
	Warm  int // messages to get before counting in (see warmUp)
}

// warmUp is how many messages go through a fresh ring before its timed
// run: two laps, so that both processes have touched every page of the
// ring (a first touch is a page fault) and every slot's line has moved
// between the cores once. Without it a short run measured the faults:
// 64 KiB messages came out at 3 k msgs/s in a 20 ms window, 540 k in a
// long one.
func warmUp(slots int) int { return 2 * slots }

var ringConsume = procs.Register("bench-ring-consume", func(a ringArg) (int, error) {
	defer a.Q.Detach()
	g, err := openGate(a.Q.Segment(), a.Gate)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, a.Q.SlotSize())
	for range a.Warm {
		if _, err := a.Q.Get(buf); err != nil {
			return 0, err
		}
	}
	var seq uint64
	bad := error(nil)
	check := func(m []byte) {
		if got := binary.LittleEndian.Uint64(m); got != seq && bad == nil {
			bad = fmt.Errorf("message %d carries sequence %d", seq, got)
		}
		seq++
	}
	g.childReady()
	if err := g.waitStart(); err != nil {
		return 0, err
	}
	for int(seq) < a.N && bad == nil {
		if a.Batch > 0 {
			if _, err := a.Q.GetBatch(min(a.Batch, a.N-int(seq)), func(m []byte) {
				n := ringqueue.Copy(buf, m)
				check(buf[:n])
			}); err != nil {
				return int(seq), err
			}
			continue
		}
		n, err := a.Q.Get(buf)
		if err != nil {
			return int(seq), err
		}
		check(buf[:n])
	}
	if bad != nil {
		return int(seq), bad
	}
	g.childDone()
	return int(seq), nil
})

// ringRound runs one round of a ring throughput benchmark: n messages.
func ringRound(b testing.TB, n int, mode ringqueue.Mode, sz msgSize, batch int) {
	stopTimer(b)
	o := ringqueue.Options{Capacity: sz.slots, SlotSize: sz.bytes, Mode: mode}
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
	var c crew
	warm := warmUp(sz.slots)
	start(b, &c, ringConsume, ringArg{Q: q, Gate: "gate", N: n, Batch: batch, Warm: warm})
	msg := make([]byte, sz.bytes)
	for range warm {
		// Bounded: a child that died warming up leaves the ring full.
		if err := q.PutTimeout(msg, joinLimit); err != nil {
			c.kill()
			b.Fatal(err)
		}
	}
	timed(b, g, c, 1, func() error {
		if batch > 0 {
			for sent := 0; sent < n; {
				k, err := q.PutBatchFunc(min(batch, n-sent), func(i int, slot []byte) int {
					binary.LittleEndian.PutUint64(msg, uint64(sent+i))
					return ringqueue.Copy(slot, msg)
				})
				if err != nil {
					return err
				}
				sent += k
			}
			return nil
		}
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint64(msg, uint64(i))
			if err := q.Put(msg); err != nil {
				return err
			}
		}
		return nil
	})
}

func benchRing(b *testing.B, mode ringqueue.Mode, sz msgSize, batch int) {
	ringRound(b, b.N, mode, sz, batch)
	reportRate(b, b.N, "msgs/s")
}

// ringBatch is the batch of the ringqueue-spsc-batch system: PutBatchFunc
// and GetBatch move up to this many messages per index update.
const ringBatch = 64

func benchThroughputRing(b *testing.B, sz msgSize) {
	RunOnce(b, "ringqueue-spsc/"+sz.name, func(b *testing.B) { benchRing(b, ringqueue.SPSC, sz, 0) })
	RunOnce(b, "ringqueue-spsc-batch/"+sz.name, func(b *testing.B) { benchRing(b, ringqueue.SPSC, sz, ringBatch) })
	RunOnce(b, "ringqueue-mpmc/"+sz.name, func(b *testing.B) { benchRing(b, ringqueue.MPMC, sz, 0) })
}
