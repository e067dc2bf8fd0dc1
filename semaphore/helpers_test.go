package semaphore

import (
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// newSeg makes an anonymous segment closed at the end of the test.
func newSeg(t testing.TB) *shm.Segment { return testutil.Anonymous(t, 1<<20) }

// deadTag is an ID that names no live process: this process's slot with
// another generation.
func deadTag(seg *shm.Segment) uint64 { return seg.Self() ^ 1<<10 }

// rawObject makes an object of n zero bytes to embed primitives in.
func rawObject(t testing.TB, seg *shm.Segment, name string, n int) shm.Object {
	t.Helper()
	obj, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindBytes, Size: n}, nil)
	require.NoError(t, err)
	return obj
}
