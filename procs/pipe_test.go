package procs_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type note struct {
	Seq  int
	Text string
	Tags []string
}

var (
	// echoBytes sends back every message it receives, as raw bytes, until
	// EOF, and returns how many it echoed.
	echoBytes = procs.Register("pipe-echo-bytes", func(c *procs.Conn) (int, error) {
		defer c.Close()
		for n := 0; ; n++ {
			b, err := c.RecvBytes()
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			if err := c.SendBytes(b); err != nil {
				return n, err
			}
		}
	})

	// echoNotes sends back every note with Seq doubled, until EOF.
	echoNotes = procs.Register("pipe-echo-notes", func(c *procs.Conn) (int, error) {
		defer c.Close()
		for n := 0; ; n++ {
			v, err := procs.RecvValue[note](c)
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			v.Seq *= 2
			if err := c.Send(v); err != nil {
				return n, err
			}
		}
	})

	// sendCount sends the numbers 0..N-1 on a send-only end, then closes it.
	sendCount = procs.Register("pipe-send-count", func(a struct {
		Out *procs.Conn
		N   int
	}) (struct{}, error) {
		defer a.Out.Close()
		for i := range a.N {
			if err := a.Out.Send(i); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})

	// relay reads from In and writes to Out until EOF: two connections in
	// one argument.
	relay = procs.Register("pipe-relay", func(a struct{ In, Out *procs.Conn }) (int, error) {
		defer a.In.Close()
		defer a.Out.Close()
		for n := 0; ; n++ {
			b, err := a.In.RecvBytes()
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			if err := a.Out.SendBytes(b); err != nil {
				return n, err
			}
		}
	})
)

func newPipe(t testing.TB, duplex bool, opts ...procs.ConnOption) (*procs.Conn, *procs.Conn) {
	t.Helper()
	a, b, err := procs.Pipe(duplex, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestDuplexPipeCarriesValuesBothWays(t *testing.T) {
	a, b := newPipe(t, true)
	require.NoError(t, a.Send(note{1, "hello", []string{"x"}}))
	require.NoError(t, b.Send(map[string]int{"answer": 42}))
	got, err := procs.RecvValue[note](b)
	require.NoError(t, err)
	assert.Equal(t, note{1, "hello", []string{"x"}}, got)
	var m map[string]int
	require.NoError(t, a.Recv(&m))
	assert.Equal(t, map[string]int{"answer": 42}, m)
}

func TestOneWayPipeFirstEndReceivesSecondSends(t *testing.T) {
	r, w := newPipe(t, false)
	assert.True(t, r.Readable())
	assert.False(t, r.Writable())
	assert.True(t, w.Writable())
	assert.False(t, w.Readable())
	assert.ErrorIs(t, r.Send(1), procs.ErrNotWritable)
	assert.ErrorIs(t, r.SendBytes(nil), procs.ErrNotWritable)
	_, err := w.RecvBytes()
	assert.ErrorIs(t, err, procs.ErrNotReadable)
	require.NoError(t, w.SendBytes([]byte("one way")))
	b, err := r.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "one way", string(b))
}

func TestRecvBytesIntoShortBufferKeepsTheMessage(t *testing.T) {
	a, b := newPipe(t, true)
	require.NoError(t, a.SendBytes([]byte("0123456789")))
	require.NoError(t, a.SendBytes([]byte("next")))
	_, err := b.RecvBytesInto(make([]byte, 4))
	var short *procs.BufferTooShortError
	require.ErrorAs(t, err, &short)
	assert.ErrorIs(t, err, procs.ErrBufferTooShort)
	assert.Equal(t, 10, short.Size)
	assert.Contains(t, err.Error(), "10 bytes")
	buf := make([]byte, short.Size)
	n, err := b.RecvBytesInto(buf)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(buf[:n]))
	n, err = b.RecvBytesInto(buf)
	require.NoError(t, err)
	assert.Equal(t, "next", string(buf[:n]), "the stream stayed in step")
}

func TestRecvOfARawMessageLeavesItQueued(t *testing.T) {
	a, b := newPipe(t, true)
	require.NoError(t, a.SendBytes([]byte("raw")))
	var s string
	assert.ErrorIs(t, b.Recv(&s), procs.ErrNotValue)
	got, err := b.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "raw", string(got))
}

func TestValueReadAsBytesIsItsGobEncoding(t *testing.T) {
	a, b := newPipe(t, true)
	require.NoError(t, a.Send("text"))
	raw, err := b.RecvBytes()
	require.NoError(t, err)
	var s string
	require.NoError(t, gob.NewDecoder(bytes.NewReader(raw)).Decode(&s))
	assert.Equal(t, "text", s)
}

func TestClosedPeerIsEOFAfterTheQueuedMessages(t *testing.T) {
	a, b := newPipe(t, true)
	require.NoError(t, a.Send(1))
	require.NoError(t, a.Close())
	v, err := procs.RecvValue[int](b)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	_, err = b.RecvBytes()
	assert.Equal(t, io.EOF, err)
	_, err = b.RecvBytes()
	assert.Equal(t, io.EOF, err, "EOF stays EOF")
	ready, err := b.Poll(0)
	require.NoError(t, err)
	assert.True(t, ready, "EOF counts as ready: a receive would not block")
}

func TestUseAfterCloseIsErrConnClosed(t *testing.T) {
	a, _ := newPipe(t, true)
	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "Close is idempotent")
	assert.ErrorIs(t, a.Send(1), procs.ErrConnClosed)
	_, err := a.RecvBytes()
	assert.ErrorIs(t, err, procs.ErrConnClosed)
	_, err = a.Poll(0)
	assert.ErrorIs(t, err, procs.ErrConnClosed)
}

func TestMessageOverTheMaximumIsRefusedBySender(t *testing.T) {
	a, b := newPipe(t, true, procs.WithMaxMessageSize(100))
	assert.Equal(t, 100, a.MaxMessageSize())
	assert.ErrorIs(t, a.SendBytes(make([]byte, 101)), procs.ErrMessageTooLarge)
	assert.ErrorIs(t, a.Send(make([]byte, 200)), procs.ErrMessageTooLarge)
	require.NoError(t, a.SendBytes(make([]byte, 100)))
	got, err := b.RecvBytes()
	require.NoError(t, err)
	assert.Len(t, got, 100, "nothing of the refused messages was written")
}

func TestLargeMessagesCrossWhole(t *testing.T) {
	a, b := newPipe(t, true)
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	errc := make(chan error, 1)
	go func() {
		// The socket holds far less than a message: send concurrently.
		for range 3 {
			if err := a.SendBytes(big); err != nil {
				errc <- err
				return
			}
		}
		errc <- a.Send(note{Seq: 9, Text: string(big[:1<<20])})
	}()
	got, err := b.RecvBytes()
	require.NoError(t, err)
	assert.True(t, bytes.Equal(big, got))
	buf := make([]byte, len(big))
	n, err := b.RecvBytesInto(buf)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(big, buf[:n]))
	_, err = b.RecvBytesInto(buf[:10])
	assert.ErrorIs(t, err, procs.ErrBufferTooShort)
	n, err = b.RecvBytesInto(buf)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(big, buf[:n]))
	v, err := procs.RecvValue[note](b)
	require.NoError(t, err)
	assert.Equal(t, 9, v.Seq)
	assert.Equal(t, string(big[:1<<20]), v.Text)
	require.NoError(t, <-errc)
}

func TestConcurrentSenderGoroutinesNeverInterleaveFrames(t *testing.T) {
	a, b := newPipe(t, true)
	const senders, each = 4, 500
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			msg := bytes.Repeat([]byte{byte('a' + s)}, 100+s*1000)
			for range each {
				if !assert.NoError(t, a.SendBytes(msg)) {
					return
				}
			}
		})
	}
	counts := map[byte]int{}
	for range senders * each {
		m, err := b.RecvBytes()
		require.NoError(t, err)
		require.Equal(t, 100+int(m[0]-'a')*1000, len(m))
		require.Equal(t, bytes.Repeat(m[:1], len(m)), m)
		counts[m[0]]++
	}
	wg.Wait()
	for s := range senders {
		assert.Equal(t, each, counts[byte('a'+s)])
	}
}

func TestPollSeesAMessageAndTimesOutWithout(t *testing.T) {
	a, b := newPipe(t, true)
	ready, err := b.Poll(0)
	require.NoError(t, err)
	assert.False(t, ready)
	ready, err = b.Poll(time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ready)
	go func() { _ = a.Send(1) }()
	ready, err = b.Poll(-1)
	require.NoError(t, err)
	assert.True(t, ready)
	require.NoError(t, a.Send(2))
	_, err = procs.RecvValue[int](b) // reads ahead: the second is buffered now
	require.NoError(t, err)
	ready, err = b.Poll(0)
	require.NoError(t, err)
	assert.True(t, ready, "a message read ahead is ready")
}

func TestWaitReturnsOnlyTheReadyConnections(t *testing.T) {
	var ins, outs []*procs.Conn
	for range 3 {
		r, w := newPipe(t, false)
		ins, outs = append(ins, r), append(outs, w)
	}
	ready, err := procs.Wait(ins, 0)
	require.NoError(t, err)
	assert.Empty(t, ready)
	require.NoError(t, outs[1].SendBytes([]byte("x")))
	ready, err = procs.Wait(ins, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, []*procs.Conn{ins[1]}, ready)
	require.NoError(t, outs[2].Close())
	ready, err = procs.Wait(ins, -1)
	require.NoError(t, err)
	assert.Equal(t, []*procs.Conn{ins[1], ins[2]}, ready, "a closed peer is ready (EOF)")
}

func TestWaitContextEndsWithTheContext(t *testing.T) {
	r, _ := newPipe(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	ready, err := procs.WaitContext(ctx, []*procs.Conn{r})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, ready)
	ok, err := r.PollContext(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, ok)
}

// Outside a Start argument or a Send (a file, a queue), a Conn's bytes
// would name a descriptor the reader does not have. Over a duplex Conn it
// travels: conn_fds_test.go.
func TestConnEncodedOutsideStartOrSendIsAnError(t *testing.T) {
	a, _ := newPipe(t, true)
	err := gob.NewEncoder(io.Discard).Encode(struct{ C *procs.Conn }{a})
	assert.ErrorIs(t, err, shm.ErrNotExporting)
}

func TestConnCrossesToAChildAsItsArgument(t *testing.T) {
	before := sockets(t)
	mine, theirs := newPipe(t, true)
	ours := sockets(t)
	for s := range before {
		delete(ours, s)
	}
	require.Len(t, ours, 2)
	p, err := procs.Start(echoBytes, theirs)
	require.NoError(t, err)
	require.NoError(t, theirs.Close(), "the child has its own copy")
	for i := range 100 {
		msg := fmt.Appendf(nil, "message %d", i)
		require.NoError(t, mine.SendBytes(msg))
		got, err := mine.RecvBytes()
		require.NoError(t, err)
		require.Equal(t, msg, got)
	}
	require.NoError(t, mine.Close())
	n, err := procs.Result[int](waitJoined(t, p))
	require.NoError(t, err)
	assert.Equal(t, 100, n)
	for s := range sockets(t) {
		assert.NotContains(t, ours, s, "a descriptor of the pipe is still open: Start leaked its duplicate")
	}
}

func TestValuesRoundTripThroughAChild(t *testing.T) {
	mine, theirs := newPipe(t, true)
	p, err := procs.Start(echoNotes, theirs)
	require.NoError(t, err)
	theirs.Close()
	for i := range 20 {
		require.NoError(t, mine.Send(note{i, "n", []string{"a", "b"}}))
		got, err := procs.RecvValue[note](mine)
		require.NoError(t, err)
		require.Equal(t, note{2 * i, "n", []string{"a", "b"}}, got)
	}
	mine.Close()
	n, err := procs.Result[int](waitJoined(t, p))
	require.NoError(t, err)
	assert.Equal(t, 20, n)
}

func TestOneWayPipeFromAChildEndsWithEOF(t *testing.T) {
	r, w := newPipe(t, false)
	p, err := procs.Start(sendCount, struct {
		Out *procs.Conn
		N   int
	}{w, 1000})
	require.NoError(t, err)
	w.Close()
	for i := range 1000 {
		v, err := procs.RecvValue[int](r)
		require.NoError(t, err)
		require.Equal(t, i, v)
	}
	_, err = r.RecvBytes()
	assert.Equal(t, io.EOF, err)
	require.NoError(t, waitJoined(t, p).Join())
}

func TestTwoConnsInOneArgumentKeepTheirEnds(t *testing.T) {
	inR, inW := newPipe(t, false)
	outR, outW := newPipe(t, false)
	p, err := procs.Start(relay, struct{ In, Out *procs.Conn }{inR, outW})
	require.NoError(t, err)
	inR.Close()
	outW.Close()
	require.NoError(t, inW.SendBytes([]byte("through")))
	got, err := outR.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "through", string(got))
	inW.Close()
	_, err = outR.RecvBytes()
	assert.Equal(t, io.EOF, err)
	n, err := procs.Result[int](waitJoined(t, p))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestKilledChildShowsAsEOF(t *testing.T) {
	mine, theirs := newPipe(t, true)
	p, err := procs.Start(echoBytes, theirs)
	require.NoError(t, err)
	theirs.Close()
	require.NoError(t, mine.SendBytes([]byte("ping")))
	_, err = mine.RecvBytes() // the child is up and echoing
	require.NoError(t, err)
	require.NoError(t, p.Kill())
	_, err = mine.RecvBytes()
	assert.Equal(t, io.EOF, err)
	var ee *procs.ExitError
	require.ErrorAs(t, waitJoined(t, p).Join(), &ee)
	assert.Equal(t, -9, ee.Code)
	assert.Error(t, mine.SendBytes([]byte("anyone?")), "EPIPE: no reader left")
}

// waitJoined joins p with a generous safety net and returns it.
func waitJoined(t *testing.T, p *procs.Process) *procs.Process {
	t.Helper()
	err := p.JoinTimeout(30 * time.Second)
	if errors.Is(err, procs.ErrTimeout) {
		_ = p.Kill()
		t.Fatalf("%s did not end", p.Name())
	}
	return p
}

// sockets returns the socket inodes this process has descriptors for.
func sockets(t *testing.T) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	out := map[string]bool{}
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			out[target] = true
		}
	}
	return out
}
