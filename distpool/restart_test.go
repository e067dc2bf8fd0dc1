package distpool_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// A server restart on its file store loses nothing: the tasks queued
// before it run after it, and the driver, which reconnects, gets their
// results (the calls simply take longer).
func TestServerRestartKeepsQueuedTasks(t *testing.T) {
	const token = "restart-test-token"
	r0 := startRestartable(t, token, "restart")
	nc, ctx, p := r0.nc, r0.ctx, r0.pool

	items := make([]int, 20)
	for i := range items {
		items[i] = i
	}
	r := procs.MapAsync(p, square, items, 1) // no host yet: the tasks wait in the stream
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	testutil.WaitUntil(t, func() bool {
		st, err := js.Stream(ctx, "DISTPOOL_TASKS")
		if err != nil {
			return false
		}
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs == uint64(len(items))
	}, "tasks stored")
	r0.server.Shutdown()

	r0.server, err = distpool.StartServer(distpool.WithStoreDir(r0.dir), distpool.WithToken(token), distpool.WithPort(r0.port))
	require.NoError(t, err)
	testutil.Start(t, hostMain, hostArg{URL: r0.server.URL(), Token: token, Queue: "restart", Name: "after", Slots: 2})
	got, err := r.GetTimeout(testutil.Patience)
	require.NoError(t, err)
	for i, v := range got {
		require.Equal(t, i*i, v)
	}
	// The pool goes on working on the restarted server.
	v, err := procs.Apply(p, square, 11)
	require.NoError(t, err)
	require.Equal(t, 121, v)
}

// A host that lives through the server's restart asks for tasks again
// once it has reconnected (its request died with the old server) and
// serves the pool as before.
func TestHostServesAcrossAServerRestart(t *testing.T) {
	const token = "restart-host-token"
	r0 := startRestartable(t, token, "restart-host")
	p := r0.pool
	testutil.Start(t, hostMain, hostArg{URL: r0.server.URL(), Token: token, Queue: "restart-host", Name: "through", Slots: 1})
	v, err := procs.Apply(p, square, 3)
	require.NoError(t, err)
	require.Equal(t, 9, v)

	r0.server.Shutdown()
	r0.server, err = distpool.StartServer(distpool.WithStoreDir(r0.dir), distpool.WithToken(token), distpool.WithPort(r0.port))
	require.NoError(t, err)
	v, err = procs.ApplyAsync(p, square, 4).GetTimeout(testutil.Patience)
	require.NoError(t, err)
	require.Equal(t, 16, v)
}

// restartable is a server on a file store in a directory of its own, a
// pool on it, and what a test needs to start the server again on the same
// store and port.
type restartable struct {
	server *distpool.Server
	dir    string
	port   int
	nc     *nats.Conn
	ctx    context.Context
	pool   *distpool.Pool
}

// The cleanups shut down whichever server r.server names by then, last.
func startRestartable(t *testing.T, token, queue string) *restartable {
	t.Helper()
	r := &restartable{dir: t.TempDir()}
	s, err := distpool.StartServer(distpool.WithStoreDir(r.dir), distpool.WithToken(token))
	require.NoError(t, err)
	r.server = s
	t.Cleanup(func() { r.server.Shutdown() })
	u, err := url.Parse(s.URL())
	require.NoError(t, err)
	r.port, err = strconv.Atoi(u.Port())
	require.NoError(t, err)
	r.nc, err = s.Connect()
	require.NoError(t, err)
	t.Cleanup(r.nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	t.Cleanup(cancel)
	r.ctx = ctx
	r.pool, err = distpool.NewPool(ctx, r.nc, distpool.WithQueue(queue))
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.pool.Terminate() })
	return r
}
