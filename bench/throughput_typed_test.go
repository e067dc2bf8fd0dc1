package bench

import (
	"fmt"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
)

// Throughput/ringqueue-typed: the typed layer, ringqueue.Typed[T] on an
// SPSC ring, with T a fixed-size struct of exactly the message size (raw
// encoding: the value is copied into the slot and back out, no
// serialization). Put takes T and Get returns T by value, so a 64 KiB T
// is also copied through the stack: that is what the typed API costs.
//
// Throughput/ringqueue-typed-gob: Typed[T] with a T that gob must encode
// (a sequence number and a []byte payload of the message size), as Python
// pickles, on an SPSC ring whose slots leave room for gob's framing.

type (
	msg8  struct{ Seq uint64 }
	msg64 struct {
		Seq uint64
		Pad [56]byte
	}
	msg4k struct {
		Seq uint64
		Pad [4<<10 - 8]byte
	}
	msg64k struct {
		Seq uint64
		Pad [64<<10 - 8]byte
	}
	// msgGob is not fixed-size: the typed queue gob-encodes it.
	msgGob struct {
		Seq  uint64
		Data []byte
	}
)

// stamped is a message type of the typed benchmarks.
type stamped interface {
	msg8 | msg64 | msg4k | msg64k | msgGob
}

// seqOf and withSeq read and make a message's sequence number (a type
// switch: the types share no field access in a generic function).
func seqOf[T stamped](v *T) uint64 {
	switch m := any(v).(type) {
	case *msg8:
		return m.Seq
	case *msg64:
		return m.Seq
	case *msg4k:
		return m.Seq
	case *msg64k:
		return m.Seq
	case *msgGob:
		return m.Seq
	}
	panic("unreachable")
}

func setSeq[T stamped](v *T, s uint64) {
	switch m := any(v).(type) {
	case *msg8:
		m.Seq = s
	case *msg64:
		m.Seq = s
	case *msg4k:
		m.Seq = s
	case *msg64k:
		m.Seq = s
	case *msgGob:
		m.Seq = s
	}
}

// gobSlack is the room a gob slot leaves beyond the payload: the type
// definitions every message carries, the field tags and lengths.
const gobSlack = 256

type typedArg[T stamped] struct {
	Q    *ringqueue.Typed[T]
	Gate string
	N    int
	Warm int // values to get before counting in (see warmUp)
}

// typedConsume gets N values and checks their sequence numbers.
func typedConsume[T stamped](a typedArg[T]) (int, error) {
	defer a.Q.Detach()
	g, err := openGate(a.Q.Segment(), a.Gate)
	if err != nil {
		return 0, err
	}
	for range a.Warm {
		if _, err := a.Q.Get(); err != nil {
			return 0, err
		}
	}
	g.childReady()
	if err := g.waitStart(); err != nil {
		return 0, err
	}
	for i := 0; i < a.N; i++ {
		v, err := a.Q.Get()
		if err != nil {
			return i, err
		}
		if s := seqOf(&v); s != uint64(i) {
			return i, fmt.Errorf("message %d carries sequence %d", i, s)
		}
	}
	g.childDone()
	return a.N, nil
}

var (
	typedConsume8   = procs.Register("bench-typed-consume-8", typedConsume[msg8])
	typedConsume64  = procs.Register("bench-typed-consume-64", typedConsume[msg64])
	typedConsume4k  = procs.Register("bench-typed-consume-4k", typedConsume[msg4k])
	typedConsume64k = procs.Register("bench-typed-consume-64k", typedConsume[msg64k])
	typedConsumeGob = procs.Register("bench-typed-consume-gob", typedConsume[msgGob])
)

// gobWarm is the fewest messages a gob round warms up with: its rate
// climbs for tens of thousands of messages (64 B: 1.36-1.40 M msgs/s
// timed over 100,000 messages after two laps, 1.76-1.88 M over 400,000),
// and the figure is the steady rate. Large messages warm up with
// gobWarmBytes at most: their round runs few messages.
const (
	gobWarm      = 50_000
	gobWarmBytes = 8 << 20
)

// typedRound runs one round of a typed throughput benchmark: n values of
// msg (whose sequence number it sets) through a ring of sz.slots slots,
// after warm values outside the timing.
func typedRound[T stamped](b testing.TB, n int, child *procs.Func[typedArg[T], int], sz msgSize, slotSize, warm int, msg T) {
	stopTimer(b)
	o := ringqueue.Options{Capacity: sz.slots, SlotSize: slotSize, Mode: ringqueue.SPSC}
	qsize, err := ringqueue.TypedSize[T](o)
	if err != nil {
		b.Fatal(err)
	}
	seg := testutil.Anonymous(b, qsize+4*gateSize)
	q, err := ringqueue.NewTyped[T](seg, "q", o)
	if err != nil {
		b.Fatal(err)
	}
	g, err := newGate(seg, "gate")
	if err != nil {
		b.Fatal(err)
	}
	var c crew
	start(b, &c, child, typedArg[T]{Q: q, Gate: "gate", N: n, Warm: warm})
	for range warm {
		// Bounded: a child that died warming up leaves the ring full.
		if err := q.PutTimeout(msg, joinLimit); err != nil {
			c.kill()
			b.Fatal(err)
		}
	}
	timed(b, g, c, 1, func() error {
		for i := 0; i < n; i++ {
			setSeq(&msg, uint64(i))
			if err := q.Put(msg); err != nil {
				return err
			}
		}
		return nil
	})
}

// typedRoundFor runs typedRound with the message type of sz (raw), or the
// gob type.
func typedRoundFor(b testing.TB, n int, sz msgSize, gob bool) {
	warm := warmUp(sz.slots)
	if gob {
		warm = max(warm, min(gobWarm, gobWarmBytes/sz.bytes))
		typedRound(b, n, typedConsumeGob, sz, sz.bytes+gobSlack, warm, msgGob{Data: make([]byte, sz.bytes-8)})
		return
	}
	switch sz.bytes {
	case 8:
		typedRound(b, n, typedConsume8, sz, 0, warm, msg8{})
	case 64:
		typedRound(b, n, typedConsume64, sz, 0, warm, msg64{})
	case 4 << 10:
		typedRound(b, n, typedConsume4k, sz, 0, warm, msg4k{})
	case 64 << 10:
		typedRound(b, n, typedConsume64k, sz, 0, warm, msg64k{})
	default:
		b.Fatalf("no typed message of %d bytes", sz.bytes)
	}
}

func benchThroughputTyped(b *testing.B, sz msgSize) {
	RunOnce(b, "ringqueue-typed/"+sz.name, func(b *testing.B) {
		typedRoundFor(b, b.N, sz, false)
		reportRate(b, b.N, "msgs/s")
	})
	RunOnce(b, "ringqueue-typed-gob/"+sz.name, func(b *testing.B) {
		typedRoundFor(b, b.N, sz, true)
		reportRate(b, b.N, "msgs/s")
	})
}
