package bench

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
)

// Throughput/pipe and Throughput/socketpair: what a program without a
// shared-memory queue does. The benchmark's process writes b.N
// length-prefixed frames (one write(2) each) into a pipe or a unix stream
// socket; a child reads them through a 64 KiB buffer and checks each one's
// sequence number. The descriptors are blocking, as in C or in Python's
// multiprocessing.Connection.

// streamArg is what a stream child gets.
type streamArg struct {
	Seg  *shm.Segment // holds the gate
	Gate string
	In   passedFile // frames to read
	Out  passedFile // for echo: where to send each frame back
	N    int
	Size int
}

var streamConsume = procs.Register("bench-stream-consume", func(a streamArg) (int, error) {
	defer a.In.F.Close()
	g, err := openGate(a.Seg, a.Gate)
	if err != nil {
		return 0, err
	}
	fr := newFrameReader(a.In.F)
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
		if got := binary.LittleEndian.Uint64(buf[:n]); got != uint64(i) {
			return i, fmt.Errorf("frame %d carries sequence %d", i, got)
		}
	}
	g.childDone()
	return a.N, nil
})

// streamKind makes the two ends of a stream: where the child reads, where
// the parent writes.
type streamKind struct {
	name string
	make func() (r, w *os.File, err error)
}

var streamKinds = []streamKind{
	{"pipe", blockingPipe},
	{"socketpair", blockingSocketpair},
}

// streamRound runs one round of a stream throughput benchmark: n frames.
func streamRound(b testing.TB, n int, k streamKind, sz msgSize) {
	stopTimer(b)
	seg := testutil.Anonymous(b, 4*gateSize)
	g, err := newGate(seg, "gate")
	if err != nil {
		b.Fatal(err)
	}
	r, w, err := k.make()
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	var c crew
	start(b, &c, streamConsume, streamArg{Seg: seg, Gate: "gate", In: passedFile{r}, N: n, Size: sz.bytes})
	r.Close() // the child holds its own copy
	fw := newFrameWriter(w, sz.bytes)
	msg := make([]byte, sz.bytes)
	timed(b, g, c, 1, func() error {
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint64(msg, uint64(i))
			if err := fw.writeFrame(msg); err != nil {
				return err
			}
		}
		return nil
	})
}

func benchStream(b *testing.B, k streamKind, sz msgSize) {
	streamRound(b, b.N, k, sz)
	reportRate(b, b.N, "msgs/s")
}

func benchThroughputStream(b *testing.B, sz msgSize) {
	for _, k := range streamKinds {
		RunOnce(b, k.name+"/"+sz.name, func(b *testing.B) { benchStream(b, k, sz) })
	}
}
