package procs

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What crosses the pool's queues was written by another process: these
// tests feed the parsers bytes a broken or hostile worker could write.

func TestReassemblyRefusesInconsistentFragments(t *testing.T) {
	var r reassembly
	_, err := r.add(1, 10, fragMore(), []byte("abc"))
	assert.ErrorIs(t, err, ErrProtocol, "a continuation with no start")
	_, err = r.add(1, 5, fragWhole, []byte("abc"))
	assert.ErrorIs(t, err, ErrProtocol, "a whole message shorter than announced")

	got, err := r.add(2, 6, fragFirst, []byte("abc"))
	require.NoError(t, err)
	assert.Nil(t, got)
	_, err = r.add(3, 6, fragFirst, []byte("x"))
	assert.ErrorIs(t, err, ErrProtocol, "a new message inside another")

	r = reassembly{}
	_, err = r.add(2, 4, fragFirst, []byte("abc"))
	require.NoError(t, err)
	_, err = r.add(2, 4, 0, []byte("defg"))
	assert.ErrorIs(t, err, ErrProtocol, "more bytes than announced")

	r = reassembly{}
	_, err = r.add(2, 6, fragFirst, []byte("abc"))
	require.NoError(t, err)
	got, err = r.add(2, 6, fragLast, []byte("def"))
	require.NoError(t, err)
	assert.Equal(t, "abcdef", string(got))
}

func fragMore() uint8 { return 0 }

func TestReassemblyOfALyingTotalAllocatesOnlyWhatArrives(t *testing.T) {
	var r reassembly
	_, err := r.add(1, 1<<40, fragFirst, []byte("tiny"))
	require.NoError(t, err)
	assert.Less(t, cap(r.buf), 1<<20)
}

func TestParseResultRefusesMalformedPayloads(t *testing.T) {
	good := appendResult(nil, []byte{itemOK, itemPanicked}, []itemError{{index: 1, message: "m", stack: "s", panicked: true}}, []byte{1, 2})
	status, fails, values, err := parseResult(good, 2)
	require.NoError(t, err)
	assert.Equal(t, []byte{itemOK, itemPanicked}, status)
	assert.Equal(t, []itemError{{index: 1, message: "m", stack: "s", panicked: true}}, fails)
	assert.Equal(t, []byte{1, 2}, values)

	_, _, _, err = parseResult(good, 3)
	assert.ErrorIs(t, err, ErrProtocol, "wrong item count")
	for i := range len(good) - 2 {
		_, _, _, err = parseResult(good[:i], 2)
		assert.ErrorIs(t, err, ErrProtocol, "truncated at %d", i)
	}
	bad := append([]byte(nil), good...)
	bad[1] = 9
	_, _, _, err = parseResult(bad, 2)
	assert.ErrorIs(t, err, ErrProtocol, "unknown status")
	huge := binary.AppendUvarint([]byte{1, itemFailed}, 1<<62)
	_, _, _, err = parseResult(huge, 1)
	assert.ErrorIs(t, err, ErrProtocol, "a message length past the end")
}

func FuzzParseResult(f *testing.F) {
	f.Add(appendResult(nil, []byte{itemOK, itemFailed}, []itemError{{index: 1, message: "boom"}}, []byte{7}), 2)
	f.Add([]byte{0x80}, 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		_, _, _, _ = parseResult(b, n) // must not panic
	})
}

func TestCodecsRefuseMalformedItems(t *testing.T) {
	var ints [3]int64
	assert.ErrorIs(t, rawCodec[int64]{}.decode(make([]byte, 23), ints[:]), ErrProtocol)
	var bs [2][]byte
	enc, err := bytesCodec{}.encode(nil, [][]byte{[]byte("ab"), []byte("cd")})
	require.NoError(t, err)
	require.NoError(t, bytesCodec{}.decode(enc, bs[:]))
	assert.Equal(t, "cd", string(bs[1]))
	assert.ErrorIs(t, bytesCodec{}.decode(enc[:len(enc)-1], bs[:]), ErrProtocol)
	assert.ErrorIs(t, bytesCodec{}.decode(append(enc, 0), bs[:]), ErrProtocol)
	var ss [1]string
	assert.ErrorIs(t, stringCodec{}.decode([]byte{200, 1}, ss[:]), ErrProtocol)
	type rec struct{ S []string }
	var rs [1]rec
	assert.Error(t, gobCodec[rec]{}.decode([]byte("not gob"), rs[:]))
	enc, err = gobCodec[rec]{}.encode(nil, []rec{{[]string{"a"}}, {nil}})
	require.NoError(t, err)
	assert.ErrorIs(t, gobCodec[rec]{}.decode(enc, rs[:]), ErrProtocol, "two items where one was expected")
}

func TestCodecChoiceFollowsTheType(t *testing.T) {
	assert.IsType(t, bytesCodec{}, codecFor[[]byte]())
	assert.IsType(t, stringCodec{}, codecFor[string]())
	assert.IsType(t, rawCodec[[4]float64]{}, codecFor[[4]float64]())
	assert.IsType(t, rawCodec[struct{ A, B int }]{}, codecFor[struct{ A, B int }]())
	assert.IsType(t, gobCodec[map[string]int]{}, codecFor[map[string]int]())
	assert.IsType(t, gobCodec[*int]{}, codecFor[*int]())
}

func TestTaskHeaderRoundTripsAndRejectsNonsense(t *testing.T) {
	b := make([]byte, taskHeader+3)
	taskHdr{id: 9, total: 5, gen: 2, count: 1, flags: fragWhole, nlen: 3}.put(b)
	h, err := parseTaskHdr(b)
	require.NoError(t, err)
	assert.Equal(t, taskHdr{id: 9, total: 5, gen: 2, count: 1, flags: fragWhole, nlen: 3}, h)
	_, err = parseTaskHdr(b[:taskHeader+2])
	assert.ErrorIs(t, err, ErrProtocol, "name past the end")
	b[24] = 0x80
	_, err = parseTaskHdr(b)
	assert.ErrorIs(t, err, ErrProtocol)
	_, err = parseResultHdr(make([]byte, resultHeader))
	assert.ErrorIs(t, err, ErrProtocol, "kind 0")
}
