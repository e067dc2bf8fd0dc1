package ringqueue_test

import (
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	. "github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// The package's cross-process tests and benchmarks are in this external
// test package: procs imports ringqueue, so they cannot be in package
// ringqueue. TestMain runs a child's registered function when the test
// binary is re-executed by procs, and fails the run if a test left a
// segment in /dev/shm or a child running.
func TestMain(m *testing.M) { testutil.Main(m) }

// newSeg makes an anonymous segment of heap bytes, closed after the test.
func newSeg(t testing.TB, heap int, opts ...shm.Option) *shm.Segment {
	t.Helper()
	if len(opts) == 0 {
		return testutil.Anonymous(t, heap)
	}
	seg, err := shm.Anonymous(heap, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Detach() })
	return seg
}

// newNamedSeg makes a named segment, unique to the test and this process,
// unlinked and closed after the test.
func newNamedSeg(t testing.TB, heap int) *shm.Segment {
	t.Helper()
	seg, err := shm.Create(testutil.Name(t, "seg"), heap)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = seg.Unlink()
		_ = seg.Detach()
	})
	return seg
}

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

// inspect reads q's state through its directory entry.
func inspect(t testing.TB, q *Queue) QueueState {
	t.Helper()
	obj, err := q.Segment().Lookup(q.Name())
	require.NoError(t, err)
	st, err := Inspect(obj)
	require.NoError(t, err)
	return st
}
