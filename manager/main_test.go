package manager

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/stretchr/testify/require"
)

// Children run their function here and exit; no child or segment may
// outlive the run.
func TestMain(m *testing.M) { testutil.Main(m) }

// testServer is an in-process server for one test, on a fresh abstract
// unix socket (or TCP loopback), shut down at the test's end.
type testServer struct {
	*Server
	addr string
	key  []byte
	done chan error
}

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func startServer(t testing.TB, address string, opts Options) *testServer {
	t.Helper()
	if opts.Authkey == nil {
		opts.Authkey = newKey(t)
	}
	s, err := NewServer(opts)
	require.NoError(t, err)
	l, err := Listen(address)
	require.NoError(t, err)
	ts := &testServer{Server: s, addr: Addr(l.Addr()), key: opts.Authkey, done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		s.Shutdown()
		select {
		case err := <-ts.done:
			require.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Errorf("Serve did not return after Shutdown")
		}
	})
	return ts
}

func (ts *testServer) connect(t testing.TB) *Manager {
	t.Helper()
	m, err := Connect(ts.addr, ts.key)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// eventually polls cond (a server-side fact with no event to wait on) with
// a generous safety net: it is a synchronization, not a measurement.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.WaitUntil(t, cond, "waiting for %s", what)
}
