package ringqueue_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	. "github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// The package's cross-process tests and benchmarks are in this external
// test package: procs imports ringqueue, so they cannot be in package
// ringqueue. TestMain runs a child's registered function when the test
// binary is re-executed by procs, and checks that no child is left.
func TestMain(m *testing.M) {
	procs.Main()
	code := m.Run()
	if left := procs.ActiveChildren(); len(left) > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "ringqueue tests left %d children running\n", len(left))
		code = 1
	}
	os.Exit(code)
}

// newSeg makes an anonymous segment of heap bytes, closed after the test.
func newSeg(t testing.TB, heap int, opts ...shm.Option) *shm.Segment {
	t.Helper()
	seg, err := shm.Anonymous(heap, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Close() })
	return seg
}

// newNamedSeg makes a named segment, unique to the test and this process,
// unlinked and closed after the test.
func newNamedSeg(t testing.TB, heap int) *shm.Segment {
	t.Helper()
	name := fmt.Sprintf("ringqueue-test-%s-%d", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), os.Getpid())
	_ = shm.Unlink(name)
	seg, err := shm.Create(name, heap)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = seg.Unlink()
		_ = seg.Close()
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
