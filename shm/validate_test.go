package shm

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// validImage returns the bytes of a small, valid segment holding one object.
func validImage(t testing.TB) []byte {
	s, err := Anonymous(512, WithParticipants(2), WithObjects(2))
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Create(Spec{Name: "obj", Kind: KindBytes, Size: 64}, nil)
	require.NoError(t, err)
	return append([]byte(nil), s.m.mem...)
}

// openImage maps bytes as a segment, the way Open would map a file.
func openImage(img []byte) (*Segment, error) {
	fd, err := unix.MemfdCreate("shm-test", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "image")
	if _, err := f.Write(img); err != nil {
		f.Close()
		return nil, err
	}
	return mapFile(f, "")
}

func hdrOf(img []byte) *header { return (*header)(unsafe.Pointer(&img[0])) }

func resum(img []byte) { hdrOf(img).Checksum = headerChecksum(img) }

func TestOpenRejectsBadImages(t *testing.T) {
	good := validImage(t)
	cases := []struct {
		name string
		edit func([]byte) []byte
		want error
	}{
		{"empty", func([]byte) []byte { return nil }, ErrNotSegment},
		{"short", func(b []byte) []byte { return b[:4] }, ErrNotSegment},
		{"foreign", func(b []byte) []byte { return []byte("#!/bin/sh\necho not a segment\n") }, ErrNotSegment},
		{"magic only", func(b []byte) []byte { return b[:64] }, ErrCorrupt},
		{"truncated", func(b []byte) []byte { return b[:len(b)-4096+100] }, ErrCorrupt},
		{"newer version", func(b []byte) []byte { hdrOf(b).Version = layoutVersion + 1; resum(b); return b }, ErrVersion},
		{"bad checksum", func(b []byte) []byte { hdrOf(b).HeapOff++; return b }, ErrCorrupt},
		{"forged heap", func(b []byte) []byte { hdrOf(b).HeapOff = 1 << 40; resum(b); return b }, ErrCorrupt},
		{"forged table", func(b []byte) []byte { hdrOf(b).Participants = 5000; resum(b); return b }, ErrCorrupt},
		{"forged dir", func(b []byte) []byte { hdrOf(b).DirEntries = 1 << 20; resum(b); return b }, ErrCorrupt},
		{"size lie", func(b []byte) []byte { hdrOf(b).Size *= 2; resum(b); return b }, ErrCorrupt},
		{"reserved set", func(b []byte) []byte { hdrOf(b).Reserved[0] = 1; resum(b); return b }, ErrCorrupt},
		{"other pid namespace", func(b []byte) []byte { hdrOf(b).PidNS ^= 1; resum(b); return b }, ErrPidNamespace},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := c.edit(append([]byte(nil), good...))
			s, err := openImage(img)
			if s != nil {
				s.Close()
			}
			assert.ErrorIs(t, err, c.want)
		})
	}
}

func TestForgedDirectoryEntryIsCorruptNotAFault(t *testing.T) {
	img := validImage(t)
	h := hdrOf(img)
	e := (*dirEntry)(unsafe.Pointer(&img[h.DirOff]))
	require.Equal(t, uint32(entryReady), e.State)
	forgeries := []struct {
		forge   func()
		harmful bool
	}{
		{func() { e.Off = h.Size - 8 }, true},    // runs past the end
		{func() { e.Off = 0 }, true},             // inside the header
		{func() { e.Size = ^uint64(0) }, true},   // wraps around
		{func() { e.NameLen = 200 }, true},       // longer than the field
		{func() { e.Kind = 9999 }, true},         // unknown kind
		{func() { e.Off = h.HeapOff + 1 }, true}, // misaligned
		{func() { e.Owner = 0 }, false},          // owner of a ready entry: unused
	}
	for i, f := range forgeries {
		saved := *e
		f.forge()
		s, err := openImage(img)
		require.NoError(t, err, "the header is intact")
		_, lerr := s.Lookup("obj")
		objs, oerr := s.Objects()
		if f.harmful {
			assert.Error(t, lerr, "forgery %d accepted", i)
			assert.True(t, errors.Is(lerr, ErrCorrupt) || errors.Is(lerr, ErrNotFound), "%v", lerr)
			assert.ErrorIs(t, oerr, ErrCorrupt)
			assert.Empty(t, objs)
		} else {
			assert.NoError(t, lerr)
		}
		s.Close()
		*e = saved
	}
}

func TestAllocationPointerOutOfBoundsIsCorrupt(t *testing.T) {
	s, err := Anonymous(1024)
	require.NoError(t, err)
	defer s.Close()
	s.m.hdr().AllocNext = s.m.size + 1
	_, err = s.Create(Spec{Name: "x", Kind: KindBytes, Size: 8}, nil)
	assert.ErrorIs(t, err, ErrCorrupt)
}

// A directory lock held by a dead participant is taken over.
func TestDirectoryLockOfDeadHolderIsTakenOver(t *testing.T) {
	s, err := Anonymous(1024, WithParticipants(4))
	require.NoError(t, err)
	defer s.Close()
	// Forge a participant that died: slot 2 names a pid that does not run.
	other := idIndex(s.Self())%4 + 1 // a slot that is not ours
	deadTag := makeID(other, 1)
	*s.m.slotA(other) = packEntry(pidMask, 1)
	*s.m.slotB(other) = 12345
	require.False(t, s.Alive(deadTag))
	s.m.hdr().DirLock = deadTag
	_, err = s.Create(Spec{Name: "x", Kind: KindBytes, Size: 8}, nil)
	require.NoError(t, err)
	assert.Zero(t, s.m.hdr().DirLock)
}

// A reserved entry whose creator died is reused, not left to block the name.
func TestReservedEntryOfDeadCreatorIsReused(t *testing.T) {
	s, err := Anonymous(1024, WithObjects(1))
	require.NoError(t, err)
	defer s.Close()
	e := s.m.entry(0)
	e.State = entryReserved
	e.Owner = makeID(idIndex(s.Self())%DefaultParticipants+1, 1) // a free slot: nobody
	e.NameLen = 1
	e.Name[0] = 'x'
	_, err = s.Create(Spec{Name: "x", Kind: KindBytes, Size: 8}, nil)
	assert.NoError(t, err)
}

func TestParseStat(t *testing.T) {
	start, state, err := parseStat("123 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 20")
	require.NoError(t, err)
	assert.Equal(t, uint64(4242), start)
	assert.Equal(t, byte('S'), state)
	for _, bad := range []string{"", "123 (x", "1 (x) S 1 2", "1 (x) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"} {
		_, _, err := parseStat(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// FuzzOpen maps arbitrary bytes as a segment and reads everything a user
// could: it must return errors, never panic or fault.
func FuzzOpen(f *testing.F) {
	good := validImage(f)
	f.Add(good)
	f.Add(good[:300])
	f.Add([]byte("MMPSHSEG"))
	f.Fuzz(func(t *testing.T, img []byte) {
		s, err := openImage(img)
		if err != nil {
			return
		}
		defer s.Close()
		_, _ = s.Info()
		objs, _ := s.Objects()
		for _, o := range objs {
			_ = o.Bytes()
			_, _ = s.Lookup(o.Name)
		}
		_, _ = s.Create(Spec{Name: "fuzz", Kind: KindBytes, Size: 8}, nil)
	})
}
