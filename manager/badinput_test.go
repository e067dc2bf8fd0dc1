package manager

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookedServer is a test server that reports why each connection ended.
func hookedServer(t *testing.T, address string, opts Options) (*testServer, <-chan error) {
	t.Helper()
	ended := make(chan error, 64)
	opts.connDone = func(err error) { ended <- err }
	return startServer(t, address, opts), ended
}

// rawConn dials and authenticates, then leaves the wire to the test.
func rawConn(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	network, addr, err := parseAddress(ts.addr)
	require.NoError(t, err)
	nc, err := net.Dial(network, addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(20*time.Second)))
	require.NoError(t, protocol.ClientHandshake(nc, ts.key))
	return nc
}

// hungUp reports whether the server closed nc (reading gives EOF).
func hungUp(t *testing.T, nc net.Conn) {
	t.Helper()
	_, err := io.ReadAll(nc)
	if errors.Is(err, syscall.ECONNRESET) {
		err = nil // closed with our bytes unread: a reset, as good as EOF
	}
	require.NoError(t, err, "the server should close the connection, not stall")
}

// stillServes checks the server serves a fresh client.
func stillServes(t *testing.T, ts *testServer) {
	t.Helper()
	d, err := NewDict[string, int](ts.connect(t))
	require.NoError(t, err)
	require.NoError(t, d.Set("alive", 1))
}

func TestBadFramesCostOneConnection(t *testing.T) {
	oversized := make([]byte, 4)
	binary.BigEndian.PutUint32(oversized, 1<<30)
	badType := protocol.AppendCancel(nil, 1)
	badType[4] = 0xee
	for name, tc := range map[string]struct {
		bytes []byte
		why   error
	}{
		"oversized":      {oversized, protocol.ErrFrameTooLarge},
		"bad type":       {badType, protocol.ErrMalformed},
		"malformed body": {append(protocol.AppendCancel(nil, 1)[:4:4], append([]byte{byte(protocol.TypeRequest), 0, 0, 0, 0, 0, 0, 0, 1}, 0xff)...), ErrProtocol},
		"reply frame":    {protocol.AppendReply(nil, 1, nil), ErrProtocol},
		"truncated":      {protocol.AppendRequest(nil, 1, protocol.Request{Object: 1, Method: "Get", Args: [][]byte{make([]byte, 1000)}})[:500], io.ErrUnexpectedEOF},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "malformed body" { // fix its length field
				binary.BigEndian.PutUint32(tc.bytes, uint32(len(tc.bytes)-4))
			}
			ts, ended := hookedServer(t, "", Options{})
			bystander := ts.connect(t)
			nc := rawConn(t, ts)
			_, err := nc.Write(tc.bytes)
			require.NoError(t, err)
			if name == "truncated" {
				require.NoError(t, nc.(interface{ CloseWrite() error }).CloseWrite())
			}
			hungUp(t, nc)
			assert.ErrorIs(t, <-ended, tc.why)
			stillServes(t, ts)
			_, err = bystander.Stats()
			assert.NoError(t, err, "other connections are untouched")
		})
	}
}

func TestClientThatStallsMidFrameIsDropped(t *testing.T) {
	ts, ended := hookedServer(t, "", Options{FrameTimeout: 50 * time.Millisecond})
	nc := rawConn(t, ts)
	frame := protocol.AppendRequest(nil, 1, protocol.Request{Object: 0, Method: ctlStats})
	_, err := nc.Write(frame[:7]) // half a frame, then silence
	require.NoError(t, err)
	hungUp(t, nc)
	var ne net.Error
	require.ErrorAs(t, <-ended, &ne)
	assert.True(t, ne.Timeout())
	stillServes(t, ts)
}

func TestIdleClientIsNotDropped(t *testing.T) {
	ts := startServer(t, "", Options{FrameTimeout: 20 * time.Millisecond})
	m := ts.connect(t)
	q, err := NewQueue[int](m, 0)
	require.NoError(t, err)
	// A Get that waits far longer than FrameTimeout: waiting is not stalling.
	_, err = q.GetTimeout(200 * time.Millisecond)
	assert.ErrorIs(t, err, ErrTimeout)
	require.NoError(t, q.Put(1))
}

func TestRequestIDReusedInFlightIsAProtocolError(t *testing.T) {
	ts, ended := hookedServer(t, "", Options{})
	m := ts.connect(t)
	q, err := NewQueue[int](m, 0)
	require.NoError(t, err)
	nc := rawConn(t, ts)
	get := protocol.AppendRequest(nil, 5, protocol.Request{Object: q.r.id, Method: "Get"})
	_, err = nc.Write(append(get, get...))
	require.NoError(t, err)
	hungUp(t, nc)
	assert.ErrorIs(t, <-ended, ErrProtocol)
}

func TestTooManyCallsInFlightAreRefusedWithErrBusy(t *testing.T) {
	ts := startServer(t, "", Options{MaxCallsPerConn: 3})
	m := ts.connect(t)
	q, err := NewQueue[int](m, 0)
	require.NoError(t, err)
	// Another connection is not limited by this one's calls.
	q2 := decodeAs[Queue[int]](t, q)
	defer q2.Detach()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _, _ = q.Get() })
	}
	srvCalls(t, ts, 3)
	// A fourth call that may block finds no slot. (Calls that cannot block
	// run inline and take none: Len still answers.)
	_, err = q.GetTimeout(time.Minute)
	assert.ErrorIs(t, err, ErrBusy)
	_, err = q.Len()
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, q2.Put(1))
	}
	wg.Wait()
	_, err = q.Len()
	assert.NoError(t, err)
}

func TestOversizedRequestFailsOnTheClientSide(t *testing.T) {
	ts := startServer(t, "", Options{MaxFrame: 1 << 16})
	m, err := Dial(bg, ts.addr, Options{Authkey: ts.key, MaxFrame: 1 << 16})
	require.NoError(t, err)
	defer m.Close()
	d, err := NewDict[string, []byte](m)
	require.NoError(t, err)
	assert.ErrorIs(t, d.Set("big", make([]byte, 1<<17)), ErrTooLarge)
	require.NoError(t, d.Set("small", []byte("ok")), "the connection survives")
}

func TestOversizedReplyIsRefusedNotSent(t *testing.T) {
	ts := startServer(t, "", Options{MaxFrame: 1 << 16})
	m := ts.connect(t) // the client accepts bigger frames than this server
	l, err := NewList[[]byte](m)
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, l.Append(make([]byte, 30<<10)))
	}
	_, err = l.All()
	assert.ErrorIs(t, err, ErrTooLarge)
	n, err := l.Len()
	require.NoError(t, err)
	assert.Equal(t, 3, n)
}

func TestWrongKeyGetsErrAuthAndTheServerServesOthers(t *testing.T) {
	for _, address := range []string{"", "tcp://127.0.0.1:0"} {
		ts, ended := hookedServer(t, address, Options{})
		_, err := Connect(ts.addr, []byte("not the key"))
		assert.ErrorIs(t, err, ErrAuth)
		assert.ErrorIs(t, <-ended, ErrAuth)
		stillServes(t, ts)
	}
}

func TestSilentClientIsDroppedAfterTheHandshakeTimeout(t *testing.T) {
	ts, ended := hookedServer(t, "", Options{HandshakeTimeout: 50 * time.Millisecond, MaxHandshakes: 1})
	network, addr, err := parseAddress(ts.addr)
	require.NoError(t, err)
	nc, err := net.Dial(network, addr)
	require.NoError(t, err)
	defer nc.Close()
	// It never answers the challenge; with one handshake slot, the next
	// client waits for the slot, then gets in.
	stillServes(t, ts)
	var ne net.Error
	require.ErrorAs(t, <-ended, &ne)
	assert.True(t, ne.Timeout())
}

func TestGarbageInsteadOfAHandshakeIsRefused(t *testing.T) {
	ts, ended := hookedServer(t, "", Options{})
	network, addr, err := parseAddress(ts.addr)
	require.NoError(t, err)
	nc, err := net.Dial(network, addr)
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	require.NoError(t, err)
	hungUp(t, nc)
	assert.ErrorIs(t, <-ended, ErrAuth)
	stillServes(t, ts)
}
