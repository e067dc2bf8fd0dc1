package procs

import (
	"encoding/binary"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests write raw bytes where a peer would write frames: what a
// buggy or hostile process on the other end could send.

func rawPipe(t *testing.T) (*Conn, *Conn) {
	t.Helper()
	r, w, err := Pipe(false)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func header(n uint32, kind byte) []byte {
	h := make([]byte, frameHeader)
	binary.LittleEndian.PutUint32(h, n)
	h[4], h[5] = kind, frameMarker
	return h
}

func TestGarbageIsErrMalformedFrameAndStaysSo(t *testing.T) {
	r, w := rawPipe(t)
	_, err := w.f.Write([]byte("GET / HTTP/1.1\r\n"))
	require.NoError(t, err)
	_, err = r.RecvBytes()
	assert.ErrorIs(t, err, ErrMalformedFrame)
	var v int
	assert.ErrorIs(t, r.Recv(&v), ErrMalformedFrame, "the stream cannot be resynchronised")
}

func TestUnknownKindIsMalformed(t *testing.T) {
	r, w := rawPipe(t)
	_, err := w.f.Write(append(header(1, 9), 'x'))
	require.NoError(t, err)
	_, err = r.RecvBytes()
	assert.ErrorIs(t, err, ErrMalformedFrame)
}

func TestOversizedHeaderIsRefusedBeforeAllocating(t *testing.T) {
	r, w := rawPipe(t)
	_, err := w.f.Write(header(1<<32-1, frameBytes))
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = r.RecvBytes()
	runtime.ReadMemStats(&after)
	assert.ErrorIs(t, err, ErrMessageTooLarge)
	assert.ErrorIs(t, err, ErrMalformedFrame)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
}

func TestLyingHeaderAllocatesOnlyWhatArrives(t *testing.T) {
	r, w := rawPipe(t)
	// Claims 100 MiB (under the maximum), delivers 10 bytes, hangs up.
	_, err := w.f.Write(append(header(100<<20, frameBytes), "0123456789"...))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = r.RecvBytes()
	runtime.ReadMemStats(&after)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorIs(t, err, ErrMalformedFrame)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
}

func TestStreamCutInsideAHeaderIsUnexpectedEOF(t *testing.T) {
	r, w := rawPipe(t)
	_, err := w.f.Write(header(5, frameBytes)[:3])
	require.NoError(t, err)
	require.NoError(t, w.Close())
	_, err = r.RecvBytes()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestStreamCutInsideAPayloadIntoABufferIsUnexpectedEOF(t *testing.T) {
	r, w := rawPipe(t)
	_, err := w.f.Write(append(header(1000, frameBytes), "short"...))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	_, err = r.RecvBytesInto(make([]byte, 1000))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestUndecodableValueIsConsumedAndTheNextArrives(t *testing.T) {
	r, w := rawPipe(t)
	_, err := w.f.Write(append(header(4, frameValue), 0xff, 0xff, 0xff, 0xff))
	require.NoError(t, err)
	require.NoError(t, w.Send(42))
	var v int
	assert.Error(t, r.Recv(&v))
	require.NoError(t, r.Recv(&v))
	assert.Equal(t, 42, v)
}

func TestMaxMessageSizeIsClamped(t *testing.T) {
	r, _ := rawPipe(t)
	r.SetMaxMessageSize(0)
	assert.Equal(t, 1, r.MaxMessageSize())
	r.SetMaxMessageSize(1 << 40)
	assert.Equal(t, maxFrameSize, r.MaxMessageSize())
}
