package procs

import (
	"context"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Try receive takes a message only when the whole frame is here; a
// frame still arriving stays where it is, and nothing is consumed.
func TestTryRecvWaitsForNoPartialFrame(t *testing.T) {
	r, w := rawPipe(t)
	frame := append(header(10, frameBytes), "0123456789"...)

	require.NoError(t, w.write(frame[:3])) // part of a header
	_, err := r.TryRecvBytes()
	assert.ErrorIs(t, err, ErrEmpty)

	require.NoError(t, w.write(frame[3:13])) // the header and half the payload
	_, err = r.TryRecvBytes()
	assert.ErrorIs(t, err, ErrEmpty)
	var buf [16]byte
	_, err = r.TryRecvBytesInto(buf[:])
	assert.ErrorIs(t, err, ErrEmpty)

	require.NoError(t, w.write(frame[13:]))
	got, err := r.TryRecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(got))
	_, err = r.TryRecvBytes()
	assert.ErrorIs(t, err, ErrEmpty)

	// A peer that hangs up inside a frame: nothing more can come, so the
	// receive is made and reports the cut.
	require.NoError(t, w.write(frame[:12]))
	require.NoError(t, w.Close())
	_, err = r.TryRecvBytes()
	assert.ErrorIs(t, err, ErrMalformedFrame)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// A bounded receive queued behind another goroutine's blocked receive
// gives up on time, and takes nothing.
func TestBoundedRecvBehindABlockedReceiveGivesUp(t *testing.T) {
	r, w := rawPipe(t)
	first := make(chan []byte, 1)
	go func() {
		b, _ := r.RecvBytes()
		first <- b
	}()
	deadline := time.Now().Add(30 * time.Second) // a safety net
	for len(r.rlock) == 0 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	require.Len(t, r.rlock, 1, "the goroutine holds the receive lock")

	_, err := r.TryRecvBytes()
	assert.ErrorIs(t, err, ErrEmpty)
	_, err = r.RecvBytesTimeout(20 * time.Millisecond)
	assert.ErrorIs(t, err, ErrTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = r.RecvBytesContext(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	require.NoError(t, w.SendBytes([]byte("one")))
	require.NoError(t, w.SendBytes([]byte("two")))
	assert.Equal(t, "one", string(<-first))
	got, err := r.RecvBytesTimeout(30 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "two", string(got))
}
