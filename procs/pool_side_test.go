package procs_test

import (
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/value"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replyOver sends its word back over the connection it was given.
var replyOver = procs.Register("reply-over", func(a struct {
	C    *procs.Conn
	Word string
}) (struct{}, error) {
	defer a.C.Close()
	return struct{}{}, a.C.Send(a.Word)
})

func TestPoolTaskCarriesAValueInAnAnonymousSegment(t *testing.T) {
	pool, err := procs.NewPool(1)
	require.NoError(t, err)
	defer pool.Terminate()
	seg := testutil.Anonymous(t, 4096)
	v, err := value.New[int64](seg, "count", 0)
	require.NoError(t, err)
	defer v.Detach()

	// The first task brings the segment; later ones find it attached.
	for want := int64(1); want <= 3; want++ {
		got, err := procs.Apply(pool, bumpValue, v)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	got, err := procs.Map(pool, bumpValue, []*value.Value[int64]{v, v, v, v}, 1)
	require.NoError(t, err)
	assert.ElementsMatch(t, []int64{4, 5, 6, 7}, got)

	// A replacement worker is sent the segment again.
	ps := pool.Processes()
	require.Len(t, ps, 1)
	require.NoError(t, ps[0].Kill())
	<-ps[0].Done()
	n, err := procs.Apply(pool, bumpValue, v)
	require.NoError(t, err)
	assert.EqualValues(t, 8, n)
	assert.EqualValues(t, 8, v.Load())
}

func TestPoolTaskCarriesAConn(t *testing.T) {
	pool, err := procs.NewPool(2)
	require.NoError(t, err)
	defer pool.Terminate()
	for _, word := range []string{"one", "two", "three"} {
		mine, theirs, err := procs.Pipe(true)
		require.NoError(t, err)
		_, err = procs.Apply(pool, replyOver, struct {
			C    *procs.Conn
			Word string
		}{theirs, word})
		require.NoError(t, err)
		theirs.Close()
		got, err := procs.RecvValue[string](mine)
		require.NoError(t, err)
		assert.Equal(t, word, got)
		mine.Close()
	}
}

// makeConn returns a connection: a result cannot carry one.
var makeConn = procs.Register("make-conn", func(struct{}) (*procs.Conn, error) {
	a, _, err := procs.Pipe(true)
	return a, err
})

func TestPoolResultHoldingAConnFailsNamingTheWays(t *testing.T) {
	pool, err := procs.NewPool(1)
	require.NoError(t, err)
	defer pool.Terminate()
	_, err = procs.Apply(pool, makeConn, struct{}{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a Conn.Send on a duplex pipe or a pool task's argument")
}

type bigParcel struct {
	Count *value.Value[int64]
	Pad   []byte
}

// bumpBig adds the parcel's padding length to the count.
var bumpBig = procs.Register("bump-big", func(p bigParcel) (int64, error) {
	return p.Count.Add(int64(len(p.Pad))), nil
})

// A task with descriptors whose payload is far larger than a socket's
// buffers still arrives: the worker reads it as it is sent.
func TestPoolTaskWithDescriptorsAndALargePayload(t *testing.T) {
	pool, err := procs.NewPool(1)
	require.NoError(t, err)
	defer pool.Terminate()
	seg := testutil.Anonymous(t, 4096)
	v, err := value.New[int64](seg, "count", 0)
	require.NoError(t, err)
	defer v.Detach()
	got, err := procs.Apply(pool, bumpBig, bigParcel{Count: v, Pad: make([]byte, 8<<20)})
	require.NoError(t, err)
	assert.EqualValues(t, 8<<20, got)
}

// holdValue marks the value and blocks until the worker is killed.
var holdValue = procs.Register("hold-value", func(v *value.Value[int64]) (int64, error) {
	v.Store(1)
	testutil.BlockForever()
	return 0, nil
})

// A worker killed in a task that brought descriptors fails that task;
// its replacement gets the segment anew, and nothing leaks here.
func TestPoolWorkerKilledInATaskWithDescriptors(t *testing.T) {
	before := openFds(t)
	pool, err := procs.NewPool(1)
	require.NoError(t, err)
	seg := testutil.Anonymous(t, 4096)
	v, err := value.New[int64](seg, "count", 0)
	require.NoError(t, err)

	held := procs.ApplyAsync(pool, holdValue, v)
	testutil.WaitUntil(t, func() bool { return v.Load() == 1 }, "the task never ran")
	ps := pool.Processes()
	require.Len(t, ps, 1)
	require.NoError(t, ps[0].Kill())
	_, err = held.GetTimeout(testutil.Patience)
	var te *procs.TaskError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Died)

	n, err := procs.Apply(pool, bumpValue, v)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	require.NoError(t, pool.Terminate())
	require.NoError(t, v.Detach())
	require.NoError(t, seg.Detach())
	assert.Equal(t, before, openFds(t), "sockets or memfds left open")
}
