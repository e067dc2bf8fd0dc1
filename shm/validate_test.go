//go:build linux

package shm

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// validImage returns the bytes of a small, valid segment holding one object.
func validImage(t testing.TB) []byte {
	s, err := Anonymous(512, WithParticipants(2), WithObjects(2))
	require.NoError(t, err)
	defer s.Detach()
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
				s.Detach()
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
		s.Detach()
		*e = saved
	}
}

func TestAllocationPointerOutOfBoundsIsCorrupt(t *testing.T) {
	s, err := Anonymous(1024)
	require.NoError(t, err)
	defer s.Detach()
	s.m.hdr().AllocNext = s.m.size + 1
	_, err = s.Create(Spec{Name: "x", Kind: KindBytes, Size: 8}, nil)
	assert.ErrorIs(t, err, ErrCorrupt)
}

// A directory lock held by a dead participant is taken over.
func TestDirectoryLockOfDeadHolderIsTakenOver(t *testing.T) {
	s, err := Anonymous(1024, WithParticipants(4))
	require.NoError(t, err)
	defer s.Detach()
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
	defer s.Detach()
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
// could: it must return errors, never panic or fault, and never wait
// without bound on a word the image holds (a directory lock naming this
// process or a live one): each input gets a deadline, and the wait on a
// live directory lock holder is shortened so that execs keep running.
func FuzzOpen(f *testing.F) {
	good := validImage(f)
	f.Add(good)
	f.Add(good[:300])
	f.Add([]byte("MMPSHSEG"))
	defer func(p time.Duration) { dirLockPatience = p }(dirLockPatience)
	dirLockPatience = 20 * time.Millisecond
	f.Fuzz(func(t *testing.T, img []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s, err := openImage(img)
			if err != nil {
				return
			}
			defer s.Detach()
			_, _ = s.Info()
			objs, _ := s.Objects()
			for _, o := range objs {
				_ = o.Bytes()
				_, _ = s.Lookup(o.Name)
			}
			_, _ = s.Create(Spec{Name: "fuzz", Kind: KindBytes, Size: 8}, nil)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second): // a safety net: inputs take microseconds
			t.Fatalf("input still running after 30s: an unbounded wait on a word from the image")
		}
	})
}

// Review defect 2: a directory lock word that bears this process's own ID,
// though no goroutine of this process holds it (a forged or corrupt
// word), is ErrCorrupt at once, not a wait on ourselves forever.
func TestDirectoryLockForgedWithOwnIDIsCorrupt(t *testing.T) {
	s, err := Anonymous(1024)
	require.NoError(t, err)
	defer s.Detach()
	atomic.StoreUint64(&s.m.hdr().DirLock, s.Self())
	done := make(chan error, 1)
	go func() {
		_, err := s.Create(Spec{Name: "x", Kind: KindBytes, Size: 8}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrCorrupt)
	case <-time.After(30 * time.Second):
		t.Fatal("Create still waits on a directory lock bearing its own ID")
	}
	// The goroutines of one process still queue for the lock among
	// themselves: a real holder among them is waited for, not refused.
	atomic.StoreUint64(&s.m.hdr().DirLock, 0)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, err := s.Create(Spec{Name: fmt.Sprintf("o%d", i), Kind: KindBytes, Size: 8}, nil)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
}

// A directory lock held by a live process for far longer than any
// creation takes is a word something else wrote: ErrCorrupt after
// dirLockPatience rather than a wait without end.
func TestDirectoryLockHeldByALiveStrangerIsBounded(t *testing.T) {
	s, err := Anonymous(1024, WithParticipants(4))
	require.NoError(t, err)
	defer s.Detach()
	// Another slot naming a live process: this one (pid and start time).
	other := idIndex(s.Self())%4 + 1
	start, _, err := processStart(os.Getpid())
	require.NoError(t, err)
	*s.m.slotA(other) = packEntry(uint32(os.Getpid()), 1)
	*s.m.slotB(other) = start
	stranger := makeID(other, 1)
	require.True(t, s.Alive(stranger))
	defer func(p time.Duration) { dirLockPatience = p }(dirLockPatience)
	dirLockPatience = 50 * time.Millisecond
	atomic.StoreUint64(&s.m.hdr().DirLock, stranger)
	_, err = s.Create(Spec{Name: "x", Kind: KindBytes, Size: 8}, nil)
	require.ErrorIs(t, err, ErrCorrupt)
	require.Equal(t, stranger, atomic.LoadUint64(&s.m.hdr().DirLock), "a live holder's word is left alone")
}

// Review defect 5: the header is copied once, validated, and only the
// copy is used. What another process writes into the mapped header
// afterwards changes nothing this process believes about the segment.
func TestHeaderIsTrustedOnlyAsValidatedAtOpen(t *testing.T) {
	s, err := Anonymous(1024)
	require.NoError(t, err)
	defer s.Detach()
	before, err := s.Info()
	require.NoError(t, err)
	h := s.m.hdr()
	h.CreatorPid, h.CreatedNano, h.Participants, h.Size = 1, 1, MaxParticipants, 1<<40
	after, err := s.Info()
	require.NoError(t, err)
	assert.Equal(t, before.CreatorPid, after.CreatorPid)
	assert.Equal(t, before.Created, after.Created)
	assert.Equal(t, before.Size, after.Size)
	assert.Len(t, after.Participants, 1)
}

// Review defect 3: a creation writes every field of its directory entry
// before the State that reserves it. A creator that stops midway (here it
// panics where a SIGKILL could strike) leaves the entry free, never
// reserved in the name of the entry's previous owner, who may be alive
// (here: this process, whose failed creation of "x" left its ID there),
// which would make "x" ErrExists for good.
func TestCreatorStoppedMidEntryLeavesNoEntryReservedForAnother(t *testing.T) {
	s, err := Anonymous(1024, WithObjects(1))
	require.NoError(t, err)
	defer s.Detach()
	_, err = s.Create(Spec{Name: "x", Kind: KindBytes, Size: 8}, func([]byte) error { return errors.New("no") })
	require.Error(t, err)
	func() {
		defer func() { _ = recover() }()
		testHookEntryWrite = func() { panic("stopped") }
		defer func() { testHookEntryWrite = nil }()
		_, _ = s.Create(Spec{Name: "y", Kind: KindBytes, Size: 8}, nil)
	}()
	_, err = s.Create(Spec{Name: "x", Kind: KindBytes, Size: 8}, nil)
	require.NoError(t, err)
}

func TestEveryKindHasALayoutVersion(t *testing.T) {
	require.Len(t, kindVersions, int(kindEnd), "a kind is missing from kindVersions")
	for k := Kind(1); k < kindEnd; k++ {
		assert.NotZero(t, k.Version(), "kind %s has no layout version", k)
	}
	assert.Zero(t, Kind(0).Version())
}

func TestObjectOfAnotherKindVersionIsRefusedWithErrVersion(t *testing.T) {
	img := validImage(t)
	h := hdrOf(img)
	e := (*dirEntry)(unsafe.Pointer(&img[h.DirOff]))
	require.Equal(t, uint32(entryReady), e.State)
	kind := Kind(e.Kind)
	e.Version = kind.Version() + 1
	s, err := openImage(img)
	require.NoError(t, err)
	defer s.Detach()
	obj, err := s.Lookup("obj")
	require.NoError(t, err, "Lookup lists what is there; opening it is what checks the version")
	assert.Equal(t, kind.Version()+1, obj.Version)
	_, err = s.OpenObject("obj", kind, obj.ElemSize, obj.Fingerprint)
	assert.ErrorIs(t, err, ErrVersion)
}
