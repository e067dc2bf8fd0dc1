package procs_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/value"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parcel is sent to a running process: a connection and a value in an
// anonymous segment, neither of which the process had when it started.
type parcel struct {
	Reply *procs.Conn
	Count *value.Value[int64]
}

// takeParcels receives parcels over the Conn it started with; for each it
// adds one to the count and answers over the parcel's own connection.
var takeParcels = procs.Register("take-parcels", func(in *procs.Conn) (int, error) {
	n := 0
	for {
		var p parcel
		err := in.Recv(&p)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		got := p.Count.Add(1)
		if err := p.Reply.Send(got); err != nil {
			return n, err
		}
		p.Reply.Close()
		p.Count.Detach()
		n++
	}
})

// openFds counts this process's sockets and memfds: what sending
// connections and anonymous segments could leak (the runtime's own
// descriptors, which may come and go meanwhile, are neither).
func openFds(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	n := 0
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && (strings.HasPrefix(target, "socket:") || strings.HasPrefix(target, "/memfd:")) {
			n++
		}
	}
	return n
}

func TestConnAndAnonymousSegmentTravelToARunningProcess(t *testing.T) {
	before := openFds(t)
	toChild, childEnd, err := procs.Pipe(true)
	require.NoError(t, err)
	p := testutil.Start(t, takeParcels, childEnd)
	childEnd.Close()

	seg := testutil.Anonymous(t, 4096)
	count, err := value.New[int64](seg, "count", 40)
	require.NoError(t, err)
	for want := int64(41); want <= 42; want++ {
		mine, theirs, err := procs.Pipe(true)
		require.NoError(t, err)
		require.NoError(t, toChild.Send(parcel{Reply: theirs, Count: count}))
		theirs.Close() // the child has its own copy now
		got, err := procs.RecvValue[int64](mine)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		mine.Close()
	}
	toChild.Close()
	require.NoError(t, p.JoinTimeout(testutil.Patience))
	n, err := procs.Result[int](p)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.EqualValues(t, 42, count.Load())
	require.NoError(t, count.Detach())
	require.NoError(t, seg.Detach())
	assert.Equal(t, before, openFds(t), "descriptors left open")
}

func TestConnOverAConnInOneProcess(t *testing.T) {
	a, b, err := procs.Pipe(true)
	require.NoError(t, err)
	defer a.Close()
	defer b.Close()
	x, y, err := procs.Pipe(true)
	require.NoError(t, err)
	defer x.Close()
	require.NoError(t, a.Send(y))
	y.Close()

	// Raw receives leave a message with descriptors queued.
	_, err = b.RecvBytes()
	assert.ErrorIs(t, err, procs.ErrHasDescriptors)
	got, err := procs.RecvValue[*procs.Conn](b)
	require.NoError(t, err)
	defer got.Close()
	require.NoError(t, got.Send("through the copy"))
	s, err := procs.RecvValue[string](x)
	require.NoError(t, err)
	assert.Equal(t, "through the copy", s)
}

func TestOneWayPipeRefusesDescriptorsNamingTheFix(t *testing.T) {
	r, w, err := procs.Pipe(false)
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	x, y, err := procs.Pipe(true)
	require.NoError(t, err)
	defer x.Close()
	defer y.Close()
	err = w.Send(y)
	assert.ErrorIs(t, err, procs.ErrCannotPass)
	assert.Contains(t, err.Error(), "Pipe(true)")
	// Nothing was written: the pipe is still in step.
	require.NoError(t, w.Send("next"))
	s, err := procs.RecvValue[string](r)
	require.NoError(t, err)
	assert.Equal(t, "next", s)
}
