//go:build linux

package shm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refsOf returns how many handles this process holds on the segment with
// the given id, 0 when it is not attached at all.
func refsOf(id [16]byte) int {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if m, ok := registry.byID[id]; ok {
		return m.refs
	}
	return 0
}

func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

// handleSegment returns an anonymous segment holding a mutex-sized object
// "m" of KindMutex and a typed one "v" of KindValue.
func handleSegment(t *testing.T) *Segment {
	t.Helper()
	s, err := Anonymous(4096)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Detach() })
	_, err = s.Create(Spec{Name: "m", Kind: KindMutex, Size: 64}, nil)
	require.NoError(t, err)
	_, err = s.Create(Spec{Name: "v", Kind: KindValue, Size: 192, ElemSize: 8, Fingerprint: 42}, nil)
	require.NoError(t, err)
	return s
}

// setVersion rewrites the layout version in the directory entry of name,
// as a process built from another release would have written it.
func setVersion(t *testing.T, s *Segment, name string, v uint16) {
	t.Helper()
	for i := uint32(0); i < s.m.dirEntries; i++ {
		e := s.m.entry(i)
		if n, ok := entryName(e); ok && n == name {
			e.Version = v
			return
		}
	}
	t.Fatalf("no entry %q", name)
}

func TestDecodeRefRoundTripsObjectAndOffset(t *testing.T) {
	s := handleSegment(t)
	b, err := EncodeRef(s, "v", 0)
	require.NoError(t, err)
	obj, off, err := DecodeRef(b, Want{Kind: KindValue, ElemSize: 8, Fingerprint: 42})
	require.NoError(t, err)
	assert.Equal(t, "v", obj.Name)
	assert.Zero(t, off)
	assert.Equal(t, 2, refsOf(s.m.id), "the decoded object holds a segment handle of its own")
	require.NoError(t, obj.Segment().Detach())

	b, err = EncodeRef(s, "v", 64)
	require.NoError(t, err)
	obj, off, err = DecodeRef(b, Want{Kind: AnyKind})
	require.NoError(t, err)
	assert.Equal(t, uint64(64), off)
	assert.Equal(t, KindValue, obj.Kind)
	require.NoError(t, obj.Segment().Detach())
	assert.Equal(t, 1, refsOf(s.m.id))
}

// Every way a decode can fail gives a clear error, and the segment handle
// the decode attached is released: the registry's count is back where it
// was.
func TestDecodeRefFailuresReleaseWhatTheyAttached(t *testing.T) {
	s := handleSegment(t)
	setVersion(t, s, "m", KindMutex.Version()+1)
	enc := func(object string, off uintptr) []byte {
		b, err := EncodeRef(s, object, off)
		require.NoError(t, err)
		return b
	}
	for _, tc := range []struct {
		name   string
		b      []byte
		want   Want
		target error
	}{
		{"wrong kind", enc("v", 0), Want{Kind: KindArray, ElemSize: 8, Fingerprint: 42}, ErrKindMismatch},
		{"wrong element type", enc("v", 0), Want{Kind: KindValue, ElemSize: 8, Fingerprint: 43}, ErrTypeMismatch},
		{"wrong version", enc("m", 0), Want{Kind: KindMutex}, ErrVersion},
		{"wrong version, any kind", enc("m", 64), Want{Kind: AnyKind}, ErrVersion},
		{"missing object", enc("gone", 0), Want{Kind: KindValue, ElemSize: 8, Fingerprint: 42}, ErrNotFound},
		{"offset into a kind that has none", enc("v", 64), Want{Kind: KindValue, ElemSize: 8, Fingerprint: 42}, ErrBadHandle},
		{"a segment, not an object", enc("", 0), Want{Kind: AnyKind}, ErrBadHandle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, fds := refsOf(s.m.id), openFds(t)
			_, _, err := DecodeRef(tc.b, tc.want)
			require.ErrorIs(t, err, tc.target)
			assert.Equal(t, before, refsOf(s.m.id), "the failed decode left a segment handle behind")
			assert.Equal(t, fds, openFds(t))
		})
	}
}

// A segment the decode had to open by name (not attached in this process)
// is unmapped and its descriptor closed again when the object is wrong.
func TestDecodeRefOfANamedSegmentUnmapsItOnFailure(t *testing.T) {
	name := fmt.Sprintf("multiproc-shape-test-%d", os.Getpid())
	s, err := Create(name, 4096)
	require.NoError(t, err)
	t.Cleanup(func() { _ = Unlink(name) })
	_, err = s.Create(Spec{Name: "q", Kind: KindQueue, Size: 64}, nil)
	require.NoError(t, err)
	b, err := EncodeRef(s, "q", 0)
	require.NoError(t, err)
	id := s.m.id
	require.NoError(t, s.Detach())
	require.Zero(t, refsOf(id))

	fds := openFds(t)
	_, _, err = DecodeRef(b, Want{Kind: KindEvent})
	require.ErrorIs(t, err, ErrKindMismatch)
	assert.Zero(t, refsOf(id), "still attached after a failed decode")
	assert.Equal(t, fds, openFds(t), "a descriptor leaked")

	// The same handle decodes when it is what the decoder wants.
	obj, _, err := DecodeRef(b, Want{Kind: KindQueue})
	require.NoError(t, err)
	assert.Equal(t, 1, refsOf(id))
	require.NoError(t, obj.Segment().Detach())
	assert.Zero(t, refsOf(id))
}

func TestDecodeRefOfAnUnknownSegment(t *testing.T) {
	s := handleSegment(t)
	b, err := EncodeRef(s, "v", 0)
	require.NoError(t, err)
	b[1] ^= 0xff // another id, of a segment this process never attached; anonymous: no name to open
	_, _, err = DecodeRef(b, Want{Kind: AnyKind})
	require.ErrorIs(t, err, ErrNotAttached)

	// A named one that does not exist.
	forged := append([]byte{refVersion}, make([]byte, 16)...)
	forged = append(forged, 4, 0, 'n', 'o', 'n', 'e', 1, 0, 'v')
	_, _, err = DecodeRef(forged, Want{Kind: AnyKind})
	require.ErrorIs(t, err, ErrNotFound)
}

// Truncated, extended and random bytes are ErrBadHandle or another clear
// error, never a panic, and never leave anything attached.
func TestDecodeRefRejectsForgedBytes(t *testing.T) {
	s := handleSegment(t)
	good, err := EncodeRef(s, "m", 0)
	require.NoError(t, err)
	withOff, err := EncodeRef(s, "v", 64)
	require.NoError(t, err)
	for n := range len(good) {
		_, _, err := DecodeRef(good[:n], Want{Kind: AnyKind})
		require.ErrorIs(t, err, ErrBadHandle, "truncated to %d bytes", n)
	}
	for n := len(good) + 1; n < len(withOff); n++ {
		_, _, err := DecodeRef(withOff[:n], Want{Kind: AnyKind})
		require.ErrorIs(t, err, ErrBadHandle, "offset truncated to %d bytes", n-len(good)-1)
	}
	zeroOff := append(append([]byte(nil), good...), make([]byte, 8)...)
	for _, bad := range [][]byte{
		append([]byte{refVersion - 1}, good[1:]...), // an older format
		append(append([]byte(nil), good...), 0),     // a byte too many
		zeroOff,                                     // offset 0 spelled out: not the one encoding of it
	} {
		_, _, err := DecodeRef(bad, Want{Kind: AnyKind})
		require.ErrorIs(t, err, ErrBadHandle, "%x", bad)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := append([]byte(nil), withOff...)
		b = b[:r.IntN(len(b)+1)]
		for range 1 + r.IntN(3) {
			if len(b) > 0 {
				b[r.IntN(len(b))] = byte(r.Uint32())
			}
		}
		obj, _, err := DecodeRef(b, Want{Kind: AnyKind})
		if err == nil {
			// Flipped bytes that still name an object of this segment.
			require.NoError(t, obj.Segment().Detach())
		}
	}
	assert.Equal(t, 1, refsOf(s.m.id))
	var seg Segment
	require.ErrorIs(t, seg.GobDecode(good), ErrBadHandle, "a handle on an object is not one on a segment")
	_, err = EncodeRef(s, "", 8)
	require.ErrorIs(t, err, ErrBadHandle)
}

// Decode hands the segment to the attachment when open succeeds, and
// releases it when open fails; Detach releases it once.
func TestDecodeOwnsTheSegmentOnlyOnSuccess(t *testing.T) {
	s := handleSegment(t)
	b, err := EncodeRef(s, "v", 0)
	require.NoError(t, err)
	want := Want{Kind: KindValue, ElemSize: 8, Fingerprint: 42}

	var a Attachment
	errOpen := errors.New("layout check failed")
	err = Decode(&a, b, want, func(Object, uint64) error { return errOpen })
	require.ErrorIs(t, err, errOpen)
	assert.Nil(t, a.seg)
	assert.Equal(t, 1, refsOf(s.m.id))

	assert.Panics(t, func() { _ = Decode(&a, b, want, func(Object, uint64) error { panic("a bug in open") }) })
	assert.Equal(t, 1, refsOf(s.m.id), "a panicking open left the segment attached")

	var got Object
	require.NoError(t, Decode(&a, b, want, func(obj Object, _ uint64) error { got = obj; return nil }))
	assert.Equal(t, "v", got.Name)
	assert.Same(t, got.Segment(), a.seg)
	assert.Equal(t, 2, refsOf(s.m.id))
	require.NoError(t, a.Detach())
	require.NoError(t, a.Detach(), "Detach is idempotent")
	assert.Equal(t, 1, refsOf(s.m.id))

	var none Attachment
	require.NoError(t, none.Detach(), "a handle made by Open owns no segment")
	assert.Equal(t, 1, refsOf(s.m.id))
}

func TestDecodeRefErrorsSayWhatWasDecoded(t *testing.T) {
	_, _, err := DecodeRef([]byte{refVersion}, Want{Kind: AnyKind})
	require.ErrorIs(t, err, ErrBadHandle)
	assert.True(t, strings.HasPrefix(err.Error(), "shm: decode handle: "), err.Error())
}
