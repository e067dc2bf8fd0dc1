package distpool_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"
)

var segmentName = procs.Register("dp-segment-size", func(s *shm.Segment) (int, error) { return 0, nil })

func TestWrongCredentialIsRefusedAtConnect(t *testing.T) {
	for name, opts := range map[string][]distpool.ConnectOption{
		"wrong token": {distpool.WithConnToken("not-the-token")},
		"no token":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			nc, err := distpool.Connect(srv.URL(), opts...)
			if nc != nil {
				nc.Close()
			}
			errorIs(t, err, distpool.ErrUnauthorized)
		})
	}
}

func TestNkeyServerAdmitsOnlyTheSeedsHolder(t *testing.T) {
	user, err := nkeys.CreateUser()
	require.NoError(t, err)
	pub, err := user.PublicKey()
	require.NoError(t, err)
	seed, err := user.Seed()
	require.NoError(t, err)
	other, err := nkeys.CreateUser()
	require.NoError(t, err)
	otherSeed, err := other.Seed()
	require.NoError(t, err)

	s, err := distpool.StartServer(distpool.WithNkey(pub))
	require.NoError(t, err)
	defer s.Shutdown()
	require.Empty(t, s.Token())

	nc, err := distpool.Connect(s.URL(), distpool.WithNkeySeed(seed))
	require.NoError(t, err)
	nc.Close()
	nc, err = distpool.Connect(s.URL(), distpool.WithNkeySeed(otherSeed))
	if nc != nil {
		nc.Close()
	}
	errorIs(t, err, distpool.ErrUnauthorized)
}

func TestEmbeddedServerListensOnLoopbackWithARandomToken(t *testing.T) {
	require.Regexp(t, `^nats://127\.0\.0\.1:\d+$`, srv.URL())
	require.Len(t, srv.Token(), 48)
	s, err := distpool.StartServer()
	require.NoError(t, err)
	dir := s.StoreDir()
	require.NotEqual(t, srv.Token(), s.Token())
	s.Shutdown()
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "store dir %s left behind", dir)
}

func TestOtherBuildIsRefused(t *testing.T) {
	p := newPool(t, "build")
	testutil.Start(t, hostMain, hostArg{URL: srv.URL(), Token: srv.Token(), Queue: "build", Name: "old", Slots: 1, Build: "an-older-build"})
	waitSize(t, p, 1)
	_, err := procs.Apply(p, square, 3)
	errorIs(t, err, distpool.ErrBuildMismatch)
	require.Contains(t, err.Error(), "an-older-build")
}

func TestSharedMemoryArgumentIsNotPortable(t *testing.T) {
	p := newPool(t, "portable")
	seg := testutil.Anonymous(t, 4096)
	_, err := procs.Apply(p, segmentName, seg)
	errorIs(t, err, distpool.ErrNotPortable)
	_, err = procs.Map(p, segmentName, []*shm.Segment{seg}, 1)
	errorIs(t, err, distpool.ErrNotPortable)
}

func TestSizeFollowsLiveHosts(t *testing.T) {
	p := newPool(t, "size")
	require.Equal(t, 1, p.Size(), "no host: at least 1")
	a := startHost(t, "size", "a", 2)
	waitSize(t, p, 2)
	b := startHost(t, "size", "b", 3)
	waitSize(t, p, 5)
	// A host that stops gracefully withdraws its slots at once...
	require.NoError(t, a.Terminate())
	require.NoError(t, a.JoinTimeout(testutil.Patience))
	waitSize(t, p, 3)
	// ...and a killed one's go stale.
	require.NoError(t, b.Kill())
	waitSize(t, p, 1)
}

func TestServeRefusesBadOptions(t *testing.T) {
	nc := connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	require.Error(t, distpool.Serve(ctx, nc, distpool.ServeSlots(-1)))
	require.Error(t, distpool.Serve(ctx, nc, distpool.ServeQueue("a.b")))
	_, err := distpool.NewPool(ctx, nc, distpool.WithQueue("x>"))
	require.Error(t, err)
	_, err = distpool.NewPool(ctx, nc, distpool.WithAckWait(time.Millisecond))
	require.Error(t, err)
}

func TestServeEndsWhenItsConnectionCloses(t *testing.T) {
	nc, err := srv.Connect()
	require.NoError(t, err)
	ready := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- distpool.Serve(context.Background(), nc, distpool.ServeQueue("closing"), distpool.ServeSlots(1),
			distpool.ServeReady(func() { close(ready) }))
	}()
	<-ready
	nc.Close()
	select {
	case err := <-served:
		require.ErrorIs(t, err, nats.ErrConnectionClosed)
	case <-time.After(testutil.Patience):
		t.Fatal("Serve went on without its connection")
	}
}
