package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestRoundTrips(t *testing.T) {
	req := Request{Object: 1 << 40, Method: "Get", Args: [][]byte{{1, 2, 3}, {}, bytes.Repeat([]byte{7}, 300)}}
	frame := AppendRequest(nil, 99, req)
	f, err := ReadFrame(bytes.NewReader(frame), 1<<20)
	require.NoError(t, err)
	assert.Equal(t, TypeRequest, f.Type)
	assert.Equal(t, uint64(99), f.ID)
	got, err := DecodeRequest(f.Body)
	require.NoError(t, err)
	assert.Equal(t, req, got)
}

func TestReplyAndErrorRoundTrip(t *testing.T) {
	var stream []byte
	stream = AppendReply(stream, 1, [][]byte{[]byte("a"), nil})
	stream = AppendError(stream, 2, 7, "no such key")
	stream = AppendCancel(stream, 3)
	r := bytes.NewReader(stream)

	f, err := ReadFrame(r, 1<<10)
	require.NoError(t, err)
	res, err := DecodeReply(f.Body)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("a"), {}}, res)

	f, err = ReadFrame(r, 1<<10)
	require.NoError(t, err)
	code, msg, err := DecodeError(f.Body)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), code)
	assert.Equal(t, "no such key", msg)

	f, err = ReadFrame(r, 1<<10)
	require.NoError(t, err)
	assert.Equal(t, Frame{Type: TypeCancel, ID: 3, Body: []byte{}}, f)

	_, err = ReadFrame(r, 1<<10)
	assert.Equal(t, io.EOF, err)
}

func TestReadFrameRefusesOversizedLengthWithoutReadingIt(t *testing.T) {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 1<<30)
	_, err := ReadFrame(bytes.NewReader(hdr[:]), 1<<20)
	assert.ErrorIs(t, err, ErrFrameTooLarge)
}

func TestReadFrameTruncatedIsUnexpectedEOF(t *testing.T) {
	frame := AppendRequest(nil, 5, Request{Object: 1, Method: "Set", Args: [][]byte{make([]byte, 100<<10)}})
	for _, cut := range []int{1, 3, 4, 10, 13, 200, 70 << 10, len(frame) - 1} {
		_, err := ReadFrame(bytes.NewReader(frame[:cut]), 1<<20)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", cut)
	}
}

func TestReadFrameRefusesBadHeaders(t *testing.T) {
	good := AppendCancel(nil, 1)
	short := bytes.Clone(good)
	binary.BigEndian.PutUint32(short, 3)
	badType := bytes.Clone(good)
	badType[typeOffset] = 0
	hugeType := bytes.Clone(good)
	hugeType[typeOffset] = 200
	zeroID := AppendCancel(nil, 0)
	for name, b := range map[string][]byte{"short": short, "type0": badType, "type200": hugeType, "id0": zeroID} {
		_, err := ReadFrame(bytes.NewReader(b), 1<<10)
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
}

func TestLargeBodyGrowsAsBytesArrive(t *testing.T) {
	// A peer announcing 1 MiB and sending 10 bytes gets an error, and the
	// reader never held more than a chunk.
	var hdr [HeaderSize]byte
	binary.BigEndian.PutUint32(hdr[:], 1<<20)
	hdr[typeOffset] = byte(TypeRequest)
	hdr[HeaderSize-1] = 1
	r := io.MultiReader(bytes.NewReader(hdr[:]), bytes.NewReader(make([]byte, 10)))
	_, err := ReadFrame(r, 2<<20)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

	body := bytes.Repeat([]byte{0xab}, 3*chunk+17)
	frame := appendHeader(nil, TypeReply, 1)
	frame = finish(append(frame, body...), 0)
	f, err := ReadFrame(bytes.NewReader(frame), 1<<20)
	require.NoError(t, err)
	assert.Equal(t, body, f.Body)
}

func TestDecodeRequestRefusesMalformedBodies(t *testing.T) {
	for name, body := range map[string][]byte{
		"empty":          {},
		"no method":      {1, 0, 0},
		"method overrun": {1, 9, 'a'},
		"count overrun":  {1, 1, 'G', 200},
		"arg overrun":    {1, 1, 'G', 1, 5, 1},
		"trailing":       {1, 1, 'G', 0, 0},
		"bad varint":     {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"bad utf8":       {1, 1, 0xff, 0},
	} {
		_, err := DecodeRequest(body)
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
}

func TestDecodedArgumentsCannotOverwriteEachOther(t *testing.T) {
	frame := AppendRequest(nil, 1, Request{Object: 1, Method: "m", Args: [][]byte{[]byte("ab"), []byte("cd")}})
	f, err := ReadFrame(bytes.NewReader(frame), 1<<10)
	require.NoError(t, err)
	req, err := DecodeRequest(f.Body)
	require.NoError(t, err)
	_ = append(req.Args[0], 'X')
	assert.Equal(t, "cd", string(req.Args[1]))
}

func TestAppendErrorCutsLongMessages(t *testing.T) {
	frame := AppendError(nil, 1, 2, string(bytes.Repeat([]byte{'x'}, 3*MaxMessage)))
	f, err := ReadFrame(bytes.NewReader(frame), 1<<20)
	require.NoError(t, err)
	_, msg, err := DecodeError(f.Body)
	require.NoError(t, err)
	assert.Len(t, msg, MaxMessage)
}

func TestReadFramePassesReaderErrorsThrough(t *testing.T) {
	boom := errors.New("boom")
	_, err := ReadFrame(errReader{boom}, 1<<10)
	assert.ErrorIs(t, err, boom)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
