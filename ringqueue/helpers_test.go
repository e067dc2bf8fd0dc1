package ringqueue

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// newSeg makes an anonymous segment of heap bytes, closed after the test.
func newSeg(t testing.TB, heap int) *shm.Segment {
	t.Helper()
	seg, err := shm.Anonymous(heap)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Detach() })
	return seg
}

// Cross-process tests and benchmarks live in package ringqueue_test
// (main_test.go): procs imports ringqueue, so a test of package ringqueue
// that imports procs would be an import cycle.

// newQueue makes a queue in a fresh anonymous segment sized for it.
func newQueue(t testing.TB, o Options) *Queue {
	t.Helper()
	size, err := Size(o)
	require.NoError(t, err)
	seg := newSeg(t, size+4096)
	q, err := New(seg, "q", o)
	require.NoError(t, err)
	return q
}

// deadID is an ID that names no live process: this process's slot with
// another generation; deadTag is its short form, as claims carry it.
func deadID(seg *shm.Segment) uint64  { return seg.Self() ^ 1<<10 }
func deadTag(seg *shm.Segment) uint32 { return shm.Short(deadID(seg)) }

// ctrlAt returns position pos's slot control word (MPMC).
func (q *Queue) ctrlAt(pos uint64) *uint64 { return slotCtrl(q.slot(pos)) }

// headTail reads the indices.
func (q *Queue) headTail() (uint64, uint64) {
	return atomic.LoadUint64(&q.lay.Head.Index), atomic.LoadUint64(&q.lay.Tail.Index)
}

func (g gate) sleepersNow() int { return sleepersCount(atomic.LoadUint32(g.sleepers)) }

// waitFor polls cond (a state another goroutine or process changes) until
// it holds; the deadline is a safety net, not a measurement.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Microsecond)
	}
}
