package shm_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func readSegmentFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shm.Dir, name))
	require.NoError(t, err)
	return b
}

// A view reads what Info, Objects and Lookup read, and leaves the segment
// byte for byte as it was: it joins no participant table.
func TestViewReadsWithoutJoiningOrWriting(t *testing.T) {
	s, name := create(t, 4096)
	obj, err := s.Create(shm.Spec{Name: "msg", Kind: shm.KindBytes, Size: 16}, func(b []byte) error {
		copy(b, "hello")
		return nil
	})
	require.NoError(t, err)
	before := readSegmentFile(t, name)

	v, err := shm.OpenView(name)
	require.NoError(t, err)
	defer v.Detach()
	assert.Equal(t, name, v.Name())
	assert.Equal(t, s.ID(), v.ID())
	assert.Equal(t, s.Size(), v.Size())
	assert.Equal(t, os.FileMode(0o600), v.Mode().Perm())
	assert.Equal(t, os.Getuid(), v.UID())

	info, err := v.Info()
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), info.CreatorPid)
	assert.True(t, info.CreatorAlive)
	require.Len(t, info.Participants, 1, "the view is no participant")
	assert.Equal(t, s.Self(), info.Participants[0].ID)
	require.Len(t, info.Objects, 1)

	p, ok := v.Participant(s.Self())
	require.True(t, ok)
	assert.Equal(t, os.Getpid(), p.Pid)
	assert.True(t, p.Alive)
	assert.True(t, v.Alive(s.Self()))
	assert.False(t, v.Alive(0), "tag 0 is nobody, although a view's own tag is 0")
	_, ok = v.Participant(s.Self() + 1<<10) // same slot, another generation
	assert.False(t, ok)
	assert.Zero(t, v.DirectoryLock())
	reserved, dead := v.Pending()
	assert.Zero(t, reserved+dead)

	vobj, err := v.Lookup("msg")
	require.NoError(t, err)
	assert.Equal(t, "hello", string(bytes.TrimRight(vobj.Bytes(), "\x00")))
	// The view maps the same memory: a store through the segment shows.
	copy(obj.Bytes(), "world")
	assert.Equal(t, "world", string(bytes.TrimRight(vobj.Bytes(), "\x00")))
	copy(obj.Bytes(), "hello")

	require.NoError(t, v.Detach())
	require.NoError(t, v.Detach(), "Close is idempotent")
	_, err = v.Info()
	assert.ErrorIs(t, err, shm.ErrClosed)
	assert.False(t, v.Alive(s.Self()))
	assert.Equal(t, before, readSegmentFile(t, name), "a view writes nothing")
}

// The kernel holds a view to its promise: a store through it faults.
func TestStoreThroughViewFaults(t *testing.T) {
	s, name := create(t, 4096)
	_, err := s.Create(shm.Spec{Name: "msg", Kind: shm.KindBytes, Size: 16}, nil)
	require.NoError(t, err)
	v, err := shm.OpenView(name)
	require.NoError(t, err)
	defer v.Detach()
	obj, err := v.Lookup("msg")
	require.NoError(t, err)

	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	faulted := func() (faulted bool) {
		defer func() { faulted = recover() != nil }()
		// A plain store: under the race detector an atomic one would fault
		// inside its C runtime, where no panic can be recovered.
		obj.Bytes()[0] = 1
		return false
	}()
	assert.True(t, faulted, "the mapping must be read-only")
	assert.Zero(t, atomic.LoadUint32(obj.Uint32(0)))
}

// A view needs no participant slot, so a segment whose table is full can
// still be looked at.
func TestViewOfSegmentWithFullParticipantTable(t *testing.T) {
	s, name := create(t, 4096, shm.WithParticipants(1))
	v, err := shm.OpenView(name)
	require.NoError(t, err)
	defer v.Detach()
	info, err := v.Info()
	require.NoError(t, err)
	require.Len(t, info.Participants, 1)
	assert.Equal(t, s.Self(), info.Participants[0].ID)
}

// Closing the segment handle an object of a view carries neither unmaps
// the view nor touches this process's own attachment of the segment.
func TestViewObjectSegmentCloseIsHarmless(t *testing.T) {
	s, name := create(t, 4096)
	_, err := s.Create(shm.Spec{Name: "msg", Kind: shm.KindBytes, Size: 16}, nil)
	require.NoError(t, err)
	v, err := shm.OpenView(name)
	require.NoError(t, err)
	defer v.Detach()
	obj, err := v.Lookup("msg")
	require.NoError(t, err)
	assert.Zero(t, obj.Segment().Self(), "a view has no tag")
	assert.False(t, obj.Segment().Alive(0), "tag 0 is nobody, even for a view")
	_, err = obj.Segment().Create(shm.Spec{Name: "x", Kind: shm.KindBytes, Size: 8}, nil)
	assert.ErrorIs(t, err, shm.ErrReadOnly)
	require.NoError(t, obj.Segment().Detach())
	assert.Len(t, obj.Bytes(), 16) // still mapped
	_, err = v.Lookup("msg")
	assert.NoError(t, err, "the view still works")
	_, err = obj.Segment().Lookup("msg")
	assert.ErrorIs(t, err, shm.ErrClosed, "the closed handle is closed")
	_, err = s.Lookup("msg")
	assert.NoError(t, err, "our own handle is untouched")
	require.NoError(t, v.Detach())
}

func TestViewOfWhatIsNoSegment(t *testing.T) {
	dir := func(t *testing.T) string { return filepath.Join(shm.Dir, testutil.Name(t)) }
	write := func(t *testing.T, b []byte) string {
		p := dir(t)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return filepath.Base(p)
	}
	good := func(t *testing.T) []byte {
		s, name := create(t, 1024)
		require.NoError(t, s.Detach())
		b := readSegmentFile(t, name)
		require.NoError(t, shm.Unlink(name))
		return b
	}
	t.Run("missing", func(t *testing.T) {
		_, err := shm.OpenView(testutil.Name(t))
		assert.ErrorIs(t, err, shm.ErrNotFound)
	})
	t.Run("foreign", func(t *testing.T) {
		_, err := shm.OpenView(write(t, []byte("#!/bin/sh\necho not a segment\n")))
		assert.ErrorIs(t, err, shm.ErrNotSegment)
	})
	t.Run("empty", func(t *testing.T) {
		_, err := shm.OpenView(write(t, nil))
		assert.ErrorIs(t, err, shm.ErrNotSegment)
	})
	t.Run("truncated", func(t *testing.T) {
		_, err := shm.OpenView(write(t, good(t)[:300]))
		assert.ErrorIs(t, err, shm.ErrCorrupt)
	})
	t.Run("bad checksum", func(t *testing.T) {
		b := good(t)
		b[24] ^= 0xff // a byte of the id, under the checksum
		_, err := shm.OpenView(write(t, b))
		assert.ErrorIs(t, err, shm.ErrCorrupt)
	})
	t.Run("other version", func(t *testing.T) {
		b := good(t)
		b[8] = 99 // the version word, checked before the checksum
		_, err := shm.OpenView(write(t, b))
		assert.ErrorIs(t, err, shm.ErrVersion)
	})
	t.Run("directory", func(t *testing.T) {
		p := dir(t)
		require.NoError(t, os.Mkdir(p, 0o700))
		t.Cleanup(func() { _ = os.Remove(p) })
		_, err := shm.OpenView(filepath.Base(p))
		assert.ErrorIs(t, err, shm.ErrNotSegment)
	})
	t.Run("fifo", func(t *testing.T) {
		p := dir(t)
		require.NoError(t, unix.Mkfifo(p, 0o600))
		_, err := shm.OpenView(filepath.Base(p)) // must not hang
		assert.ErrorIs(t, err, shm.ErrNotSegment)
	})
	t.Run("symlink", func(t *testing.T) {
		s, name := create(t, 1024)
		defer s.Detach()
		p := filepath.Join(shm.Dir, name+"-link")
		require.NoError(t, os.Symlink(filepath.Join(shm.Dir, name), p))
		t.Cleanup(func() { _ = os.Remove(p) })
		_, err := shm.OpenView(filepath.Base(p))
		assert.Error(t, err, "a symlink is not followed")
	})
	t.Run("invalid name", func(t *testing.T) {
		_, err := shm.OpenView("../etc/passwd")
		assert.ErrorIs(t, err, shm.ErrInvalidName)
	})
}

// A participant killed while attached stays in the table; a view sees it
// there, dead, and its tag still maps to its pid.
func TestViewSeesKilledParticipantAsDead(t *testing.T) {
	s, name := create(t, 4096)
	ready, err := s.Create(shm.Spec{Name: "ready", Kind: shm.KindBytes, Size: 16}, nil)
	require.NoError(t, err)
	p := testutil.Start(t, attachAndBlock, s)
	testutil.WaitWord(t, ready.Uint32(0), p)
	victim := atomic.LoadUint64(ready.Uint64(8))

	v, err := shm.OpenView(name)
	require.NoError(t, err)
	defer v.Detach()
	got, ok := v.Participant(victim)
	require.True(t, ok)
	assert.Equal(t, p.Pid(), got.Pid)
	assert.True(t, got.Alive)

	require.NoError(t, p.Kill())
	_ = p.Join()
	got, ok = v.Participant(victim)
	require.True(t, ok, "a killed participant keeps its slot")
	assert.Equal(t, p.Pid(), got.Pid)
	assert.False(t, got.Alive)
	info, err := v.Info()
	require.NoError(t, err)
	assert.Len(t, info.Participants, 2)
}
