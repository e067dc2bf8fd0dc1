package distpool_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// A server restart on its file store loses nothing: the tasks queued
// before it run after it, and the driver, which reconnects, gets their
// results (the calls simply take longer).
func TestServerRestartKeepsQueuedTasks(t *testing.T) {
	dir := t.TempDir()
	const token = "restart-test-token"
	s, err := distpool.StartServer(distpool.WithStoreDir(dir), distpool.WithToken(token))
	require.NoError(t, err)
	defer func() { s.Shutdown() }() // the second server, by then
	u, err := url.Parse(s.URL())
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	nc, err := s.Connect()
	require.NoError(t, err)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	p, err := distpool.NewPool(ctx, nc, distpool.WithQueue("restart"))
	require.NoError(t, err)
	defer p.Terminate()

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
	s.Shutdown()

	s, err = distpool.StartServer(distpool.WithStoreDir(dir), distpool.WithToken(token), distpool.WithPort(port))
	require.NoError(t, err)
	testutil.Start(t, hostMain, hostArg{URL: s.URL(), Token: token, Queue: "restart", Name: "after", Slots: 2})
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
	dir := t.TempDir()
	const token = "restart-host-token"
	s, err := distpool.StartServer(distpool.WithStoreDir(dir), distpool.WithToken(token))
	require.NoError(t, err)
	defer func() { s.Shutdown() }() // the second server, by then
	u, err := url.Parse(s.URL())
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	nc, err := s.Connect()
	require.NoError(t, err)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	p, err := distpool.NewPool(ctx, nc, distpool.WithQueue("restart-host"))
	require.NoError(t, err)
	defer p.Terminate()
	testutil.Start(t, hostMain, hostArg{URL: s.URL(), Token: token, Queue: "restart-host", Name: "through", Slots: 1})
	v, err := procs.Apply(p, square, 3)
	require.NoError(t, err)
	require.Equal(t, 9, v)

	s.Shutdown()
	s, err = distpool.StartServer(distpool.WithStoreDir(dir), distpool.WithToken(token), distpool.WithPort(port))
	require.NoError(t, err)
	v, err = procs.ApplyAsync(p, square, 4).GetTimeout(testutil.Patience)
	require.NoError(t, err)
	require.Equal(t, 16, v)
}
