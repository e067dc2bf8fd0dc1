package distpool_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/require"
)

var reverse = procs.Register("dp-reverse", func(b []byte) ([]byte, error) {
	out := slices.Clone(b)
	slices.Reverse(out)
	return out, nil
})

// Tasks and results over the server's max payload (1 MB) travel through
// the object store, and the pool removes them.
func TestTasksAndResultsPastMaxPayload(t *testing.T) {
	nc := connect(t)
	require.Equal(t, int64(1<<20), nc.MaxPayload())
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	p, err := distpool.NewPool(ctx, nc, distpool.WithQueue("large"))
	require.NoError(t, err)
	defer p.Terminate()
	startHost(t, "large", "a", 2)
	waitSize(t, p, 2)

	items := make([][]byte, 12)
	for i := range items {
		items[i] = bytes.Repeat([]byte{byte(i), byte(i + 1), 7}, 150_000) // 450 KB
	}
	got, err := procs.Map(p, reverse, items, 4) // 1.8 MB a task, and a result
	require.NoError(t, err)
	for i, b := range got {
		want := slices.Clone(items[i])
		slices.Reverse(want)
		require.True(t, bytes.Equal(want, b), "item %d", i)
	}
	one, err := procs.Apply(p, reverse, bytes.Repeat([]byte{1, 2}, 1<<20)) // 2 MB alone
	require.NoError(t, err)
	require.Len(t, one, 2<<20)

	require.NoError(t, p.Close())
	require.NoError(t, p.JoinContext(ctx))
	testutil.WaitUntil(t, func() bool { return len(stored(t, "OBJ_distpool_blobs", "$O.distpool_blobs.C.>")) == 0 }, "objects removed")
}
