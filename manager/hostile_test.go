package manager

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientThatStopsReadingIsDropped(t *testing.T) {
	ts, ended := hookedServer(t, "", Options{WriteTimeout: 50 * time.Millisecond})
	m := ts.connect(t)
	l, err := NewList[[]byte](m)
	require.NoError(t, err)
	for range 16 {
		require.NoError(t, l.Append(make([]byte, 256<<10)))
	}
	nc := rawConn(t, ts)
	// Ask for 4 MiB, twice, and never read: the replies outgrow the socket
	// buffers and the server's write times out.
	all := protocol.AppendRequest(nil, 1, protocol.Request{Object: l.r.id, Method: "All"})
	_, err = nc.Write(append(all, protocol.AppendRequest(nil, 2, protocol.Request{Object: l.r.id, Method: "All"})...))
	require.NoError(t, err)
	var ne net.Error
	require.ErrorAs(t, <-ended, &ne)
	assert.True(t, ne.Timeout())
	stillServes(t, ts)
}

// fakeServer authenticates like a server, then does what script says.
func fakeServer(t *testing.T, key []byte, script func(nc net.Conn)) string {
	t.Helper()
	l, err := Listen("")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				if protocol.ServerHandshake(nc, key) != nil {
					return
				}
				script(nc)
			}()
		}
	}()
	return Addr(l.Addr())
}

// answerHello reads the hello and answers it properly.
func answerHello(nc net.Conn) (ok bool) {
	f, err := protocol.ReadFrame(nc, 1<<20)
	if err != nil {
		return false
	}
	_, err = nc.Write(protocol.AppendReply(nil, f.ID, [][]byte{uintArg(protocolVersion), uintArg(1)}))
	return err == nil
}

func TestClientDropsAServerThatBreaksTheProtocol(t *testing.T) {
	key := []byte("k")
	for name, reply := range map[string]func(id uint64) []byte{
		"garbage": func(uint64) []byte { return []byte{0, 0, 0, 9, 77, 0, 0, 0, 0, 0, 0, 0, 1} },
		"request frame": func(id uint64) []byte {
			return protocol.AppendRequest(nil, id, protocol.Request{Object: 1, Method: "x"})
		},
		"oversized": func(uint64) []byte { return []byte{0x7f, 0xff, 0xff, 0xff} },
		"bad body": func(id uint64) []byte {
			f := protocol.AppendCancel(nil, id)
			f[4] = byte(protocol.TypeError)
			f = append(f, 0xff) // a varint that never ends
			f[3]++
			return f
		},
	} {
		t.Run(name, func(t *testing.T) {
			addr := fakeServer(t, key, func(nc net.Conn) {
				if !answerHello(nc) {
					return
				}
				f, err := protocol.ReadFrame(nc, 1<<20)
				if err != nil {
					return
				}
				_, _ = nc.Write(reply(f.ID))
				_, _ = io.Copy(io.Discard, nc) // stay connected: the client must not wait for us
			})
			m, err := Connect(addr, key)
			require.NoError(t, err)
			defer m.Close()
			_, err = m.Stats()
			assert.ErrorIs(t, err, ErrClosed)
			_, err = m.Stats()
			assert.ErrorIs(t, err, ErrClosed, "the connection stays failed")
		})
	}
}

func TestServerThatNeverAnswersCannotHangACancellableCall(t *testing.T) {
	key := []byte("k")
	addr := fakeServer(t, key, func(nc net.Conn) {
		if answerHello(nc) {
			_, _ = io.Copy(io.Discard, nc) // reads everything, answers nothing
		}
	})
	m, err := Dial(bg, addr, Options{Authkey: key, CancelGrace: 10 * time.Millisecond})
	require.NoError(t, err)
	defer m.Close()
	ctx, cancel := context.WithTimeout(bg, 10*time.Millisecond)
	defer cancel()
	_, err = m.c.call(ctx, site{method: ctlStats}, 0, ctlStats, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestClientRefusesAServerWithoutTheKey(t *testing.T) {
	// An impostor that lets anybody in (it sends a challenge and welcomes
	// whatever answer) but cannot answer the client's own challenge.
	l, err := Listen("")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		msg := func(b string) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...) }
		_, _ = nc.Write(msg("#CHALLENGE#{sha256}" + strings.Repeat("n", 40)))
		var hdr [4]byte
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			return
		}
		_, _ = io.CopyN(io.Discard, nc, int64(binary.BigEndian.Uint32(hdr[:])))
		_, _ = nc.Write(msg("#WELCOME#"))
		_ = protocol.AnswerChallenge(nc, []byte("not the key"))
	}()
	_, err = Connect(Addr(l.Addr()), []byte("the key"))
	assert.ErrorIs(t, err, ErrAuth)
}

func TestClientDropsAServerThatStallsMidFrame(t *testing.T) {
	key := []byte("k")
	addr := fakeServer(t, key, func(nc net.Conn) {
		if !answerHello(nc) {
			return
		}
		f, err := protocol.ReadFrame(nc, 1<<20)
		if err != nil {
			return
		}
		_, _ = nc.Write(protocol.AppendReply(nil, f.ID, [][]byte{make([]byte, 100)})[:20])
		_, _ = io.Copy(io.Discard, nc)
	})
	m, err := Dial(bg, addr, Options{Authkey: key, FrameTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Stats()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

func TestGobPanicsFailTheCallNotTheProcess(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	ns, err := NewNamespace(m)
	require.NoError(t, err)
	d, err := NewDict[string, int](m)
	require.NoError(t, err)
	// Go 1.26's gob crashes on a pointer to a pointer with GobEncode.
	assert.ErrorIs(t, ns.Set("d", &d), ErrType)
	require.NoError(t, ns.Set("ok", 1), "the namespace still works")
	assert.ErrorIs(t, ns.Set("ch", make(chan int)), ErrType)
}
