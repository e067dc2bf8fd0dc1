package ringqueue

import (
	"context"
	"encoding/gob"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of gob typed queues (the types and helpers are in typed_test.go).

func TestTypedGobCarriesStringsSlicesMapsAndPointers(t *testing.T) {
	q := newTypedT[tqDoc](t, Options{Capacity: 16, SlotSize: 1024})
	assert.Equal(t, EncodingGob, q.Encoding())
	want := []tqDoc{{}, docFor(1, 3), docFor(2, 5), {Name: "only a name"}, docFor(7, 9)}
	for _, d := range want {
		require.NoError(t, q.Put(d))
	}
	for _, d := range want {
		got, err := q.Get()
		require.NoError(t, err)
		assert.Equal(t, d.Name, got.Name)
		assert.Equal(t, len(d.Tags), len(got.Tags))
		assert.Equal(t, d, normalizeDoc(got, d))
	}
}

// normalizeDoc maps gob's "empty is absent" back where want had empty
// non-nil containers, so that Equal compares content.
func normalizeDoc(got, want tqDoc) tqDoc {
	if len(got.Attrs) == 0 && want.Attrs != nil && len(want.Attrs) == 0 {
		got.Attrs = want.Attrs
	}
	return got
}

func TestTypedGobCarriesBasicAndInterfaceTypes(t *testing.T) {
	s := newTypedT[string](t, Options{Capacity: 4})
	require.NoError(t, s.Put("héllo"))
	require.NoError(t, s.Put(""))
	v, err := s.Get()
	require.NoError(t, err)
	assert.Equal(t, "héllo", v)
	v, err = s.Get()
	require.NoError(t, err)
	assert.Equal(t, "", v)

	m := newTypedT[map[string][]int](t, Options{Capacity: 4})
	require.NoError(t, m.Put(map[string][]int{"a": {1, 2}, "b": nil}))
	mv, err := m.Get()
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, mv["a"])

	// Interface values: fresh encoders and decoders per message, each
	// message carrying the definitions nested in it.
	gob.Register(tqPoint{})
	gob.Register(tqDoc{})
	a := newTypedT[any](t, Options{Capacity: 8, SlotSize: 1024})
	require.False(t, a.gob.reuse)
	in := []any{tqPoint{X: 5}, docFor(3, 3), tqPoint{Y: 6}, nil, docFor(4, 4)}
	for _, x := range in {
		require.NoError(t, a.Put(x))
	}
	for _, x := range in {
		got, err := a.Get()
		require.NoError(t, err)
		if d, ok := x.(tqDoc); ok {
			assert.Equal(t, d, normalizeDoc(got.(tqDoc), d))
			continue
		}
		assert.Equal(t, x, got)
	}
}

func TestTypedGobTooLargeNamesBothSizesAndQueuesNothing(t *testing.T) {
	q := newTypedT[string](t, Options{Capacity: 4, SlotSize: 64})
	err := q.Put(strings.Repeat("x", 500))
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "slot size 64")
	assert.Regexp(t, `is 5\d\d bytes`, err.Error())
	assert.Equal(t, 0, q.Len())
	n, err := q.PutBatch([]string{"ok", strings.Repeat("y", 100)})
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, 0, n)
	assert.Equal(t, 0, q.Len())
	require.NoError(t, q.Put("fits"))
}

func TestTypedGobBatchesMoveEveryValue(t *testing.T) {
	q := newTypedT[tqDoc](t, Options{Capacity: 8, SlotSize: 512})
	vs := make([]tqDoc, 30)
	for i := range vs {
		vs[i] = docFor(2, i)
	}
	done := make(chan []tqDoc)
	go func() {
		var got []tqDoc
		dst := make([]tqDoc, 5)
		for len(got) < len(vs) {
			k, err := q.GetBatchTimeout(dst, 10*time.Second)
			if err != nil {
				break
			}
			got = append(got, dst[:k]...)
		}
		done <- got
	}()
	k, err := q.PutBatchContext(context.Background(), vs)
	require.NoError(t, err)
	assert.Equal(t, len(vs), k)
	got := <-done
	require.Len(t, got, len(vs))
	for i := range vs {
		assert.Equal(t, vs[i], normalizeDoc(got[i], vs[i]))
	}
}

// tqDoc1..5 have tqDoc's fields under other type names: their encodings
// carry other type definitions, as another process's encodings do.
type (
	tqDoc1 tqDoc
	tqDoc2 tqDoc
	tqDoc3 tqDoc
	tqDoc4 tqDoc
	tqDoc5 tqDoc
)

func TestTypedGobDecodersKeepOneDecoderPerDefinitionSet(t *testing.T) {
	q := newTypedT[tqDoc](t, Options{Capacity: 64, SlotSize: 1024})
	foreign := func(i, s int) []byte {
		var buf strings.Builder
		enc := gob.NewEncoder(&buf)
		d := docFor(i, s)
		var err error
		switch i {
		case 1:
			err = enc.Encode(tqDoc1(d))
		case 2:
			err = enc.Encode(tqDoc2(d))
		case 3:
			err = enc.Encode(tqDoc3(d))
		case 4:
			err = enc.Encode(tqDoc4(d))
		default:
			err = enc.Encode(tqDoc5(d))
		}
		require.NoError(t, err)
		return []byte(buf.String())
	}
	// Interleave our own encodings with five foreign definition sets: more
	// than a decoder keeps, so slots are evicted and rebuilt.
	var want []tqDoc
	for s := range 6 {
		for i := 0; i <= 5; i++ {
			if i == 0 {
				require.NoError(t, q.Put(docFor(0, s)))
			} else {
				require.NoError(t, q.Queue().Put(foreign(i, s)))
			}
			want = append(want, docFor(i, s))
		}
		for _, w := range want {
			got, err := q.Get()
			require.NoError(t, err)
			assert.Equal(t, w, normalizeDoc(got, w))
		}
		want = want[:0]
	}
}

func TestTypedGobMessagesAreSelfContained(t *testing.T) {
	q := newTypedT[tqDoc](t, Options{Capacity: 8, SlotSize: 1024})
	for s := range 4 {
		require.NoError(t, q.Put(docFor(5, s)))
	}
	buf := make([]byte, q.SlotSize())
	for s := range 4 {
		// Any message, decoded alone by a decoder that has seen nothing.
		n, err := q.Queue().Get(buf)
		require.NoError(t, err)
		var v tqDoc
		require.NoError(t, gob.NewDecoder(strings.NewReader(string(buf[:n]))).Decode(&v))
		assert.Equal(t, docFor(5, s), normalizeDoc(v, docFor(5, s)))
		defs, err := gobDefsLen(buf[:n])
		require.NoError(t, err)
		t.Logf("message %d: %d bytes, of which %d type definitions", s, n, defs)
		assert.Positive(t, defs)
	}
}

func TestTypedGobDecoderReusesADecoderForKnownDefinitions(t *testing.T) {
	c := &gobCodec[tqDoc]{reuse: true}
	var msgs [][]byte
	for s := range 3 {
		d := docFor(1, s)
		e, m, err := c.encode(&d)
		require.NoError(t, err)
		msgs = append(msgs, append([]byte(nil), m...))
		c.done(e)
	}
	d := new(gobDecoder[tqDoc])
	var v tqDoc
	require.NoError(t, d.decode(true, false, &v, msgs[0]))
	first := d.slots[0].dec
	require.NotNil(t, first)
	for s, m := range msgs {
		require.NoError(t, d.decode(true, false, &v, m))
		assert.Equal(t, docFor(1, s), normalizeDoc(v, docFor(1, s)))
	}
	assert.Same(t, first, d.slots[0].dec, "the same definitions reuse the decoder")
	assert.Equal(t, 1, d.next, "one slot used")
	assert.Nil(t, d.slots[1].dec)
}
