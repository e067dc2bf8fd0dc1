package distpool_test

import (
	"context"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// stored returns the messages a stream holds per subject matching filter.
func stored(t *testing.T, stream, filter string) map[string]uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	nc, err := srv.Connect()
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	require.NoError(t, err)
	return info.State.Subjects
}

func TestCloseJoinReleasesResults(t *testing.T) {
	nc := connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	p, err := distpool.NewPool(ctx, nc, distpool.WithQueue("lifecycle"))
	require.NoError(t, err)
	startHost(t, "lifecycle", "a", 2)
	waitSize(t, p, 2)
	r := procs.MapAsync(p, square, []int{1, 2, 3, 4, 5, 6}, 1)
	require.ErrorIs(t, p.JoinContext(ctx), procs.ErrPoolRunning)
	require.NoError(t, p.Close())
	_, err = procs.Apply(p, square, 2)
	require.ErrorIs(t, err, procs.ErrPoolClosed)
	require.NoError(t, p.JoinContext(ctx))
	got, err := r.Get()
	require.NoError(t, err)
	require.Equal(t, []int{1, 4, 9, 16, 25, 36}, got)
	require.Empty(t, stored(t, "DISTPOOL_RESULTS", p.ResultSubject()), "results left on the server")
}

func TestTerminateFailsPendingAndRemovesQueuedTasks(t *testing.T) {
	nc := connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	p, err := distpool.NewPool(ctx, nc, distpool.WithQueue("terminate"))
	require.NoError(t, err)
	r := procs.MapAsync(p, square, []int{1, 2, 3}, 1) // no host: they wait
	testutil.WaitUntil(t, func() bool { return len(stored(t, "DISTPOOL_TASKS", "distpool.task.terminate.>")) == 1 })
	require.NoError(t, p.Terminate())
	_, err = r.Get()
	require.ErrorIs(t, err, procs.ErrPoolTerminated)
	require.Empty(t, stored(t, "DISTPOOL_TASKS", "distpool.task.terminate.>"), "tasks left queued")
}

// A driver beside the embedded server may connect in process (no TCP):
// the pool works the same.
func TestPoolOnAnInProcessConnection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	p, err := distpool.NewPool(ctx, connectInProcess(t), distpool.WithQueue("inprocess"))
	require.NoError(t, err)
	defer p.Terminate()
	startHost(t, "inprocess", "h", 1)
	got, err := procs.Map(p, square, []int{1, 2, 3, 4, 5}, 2)
	require.NoError(t, err)
	require.Equal(t, []int{1, 4, 9, 16, 25}, got)
	require.NoError(t, p.Close())
	require.NoError(t, p.Join())
}

// The Join forms, and a bounded Map, while tasks wait for a host.
func TestJoinFormsWhileTasksAreOut(t *testing.T) {
	nc := connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	p, err := distpool.NewPool(ctx, nc, distpool.WithQueue("joinforms"))
	require.NoError(t, err)
	defer p.Terminate()
	_, err = procs.MapTimeout(p, square, []int{7}, 1, 10*time.Millisecond) // no host yet
	require.ErrorIs(t, err, procs.ErrTimeout)
	r := procs.MapAsync(p, square, []int{1, 2, 3}, 1)
	require.ErrorIs(t, p.TryJoin(), procs.ErrPoolRunning)
	require.NoError(t, p.Close())

	require.ErrorIs(t, p.TryJoin(), procs.ErrRunning)
	require.ErrorIs(t, p.JoinTimeout(10*time.Millisecond), procs.ErrTimeout)
	done, stop := context.WithCancel(context.Background())
	stop()
	require.ErrorIs(t, p.JoinContext(done), context.Canceled)

	startHost(t, "joinforms", "a", 1)
	require.NoError(t, p.JoinTimeout(testutil.Patience))
	require.NoError(t, p.TryJoin())
	got, err := r.TryGet()
	require.NoError(t, err)
	require.Equal(t, []int{1, 4, 9}, got)
}
