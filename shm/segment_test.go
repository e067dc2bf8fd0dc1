package shm_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Nothing may be left behind: no segment of ours, no child.
func TestMain(m *testing.M) { testutil.Main(m) }

func create(t *testing.T, heap int, opts ...shm.Option) (*shm.Segment, string) {
	name := testutil.Name(t)
	s, err := shm.Create(name, heap, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Detach() })
	return s, name
}

func TestCreateTwiceFailsWithErrExists(t *testing.T) {
	_, name := create(t, 1024)
	_, err := shm.Create(name, 1024)
	assert.ErrorIs(t, err, shm.ErrExists)
}

func TestOpenMissingIsErrNotFound(t *testing.T) {
	_, err := shm.Open(testutil.Name(t))
	assert.ErrorIs(t, err, shm.ErrNotFound)
	assert.ErrorIs(t, shm.Unlink(testutil.Name(t)+"x"), shm.ErrNotFound)
}

func TestInvalidNamesAndSizes(t *testing.T) {
	for _, name := range []string{"", "a/b", ".", "..", strings.Repeat("x", 256)} {
		_, err := shm.Create(name, 10)
		assert.ErrorIs(t, err, shm.ErrInvalidName, "%q", name)
	}
	_, err := shm.Anonymous(-1)
	assert.ErrorIs(t, err, shm.ErrInvalidSize)
	_, err = shm.Anonymous(10, shm.WithParticipants(0))
	assert.ErrorIs(t, err, shm.ErrInvalidSize)
	_, err = shm.Anonymous(10, shm.WithParticipants(shm.MaxParticipants+1))
	assert.ErrorIs(t, err, shm.ErrInvalidSize)
}

func TestNamedSegmentIsPrivateByDefault(t *testing.T) {
	_, name := create(t, 1024)
	fi, err := os.Stat(filepath.Join(shm.Dir, name))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	name2 := testutil.Name(t, "shared")
	s, err := shm.Create(name2, 1024, shm.WithMode(0o640))
	require.NoError(t, err)
	defer s.Detach()
	fi, err = os.Stat(filepath.Join(shm.Dir, name2))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
}

func TestAnonymousSegmentCannotBeResized(t *testing.T) {
	s, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer s.Detach()
	assert.ErrorIs(t, s.File().Truncate(int64(s.Size()/2)), unix.EPERM)
	assert.ErrorIs(t, s.File().Truncate(int64(s.Size()*2)), unix.EPERM)
	assert.True(t, s.Anonymous())
	assert.Equal(t, "", s.Name())
}

func TestOpenSharesOneMappingPerProcess(t *testing.T) {
	s, name := create(t, 1024)
	o, err := shm.Open(name)
	require.NoError(t, err)
	assert.Equal(t, s.ID(), o.ID())
	assert.Equal(t, s.Self(), o.Self(), "one participant slot per process")
	obj, err := s.Create(shm.Spec{Name: "n", Kind: shm.KindBytes, Size: 8}, nil)
	require.NoError(t, err)
	require.NoError(t, o.Detach())
	obj.Bytes()[0] = 1 // still mapped: s is open
	require.NoError(t, o.Detach(), "Close is idempotent")
	_, err = o.Lookup("n")
	assert.ErrorIs(t, err, shm.ErrClosed)
}

func TestObjectsAreFoundByNameKindAndType(t *testing.T) {
	s, _ := create(t, 4096)
	obj, err := s.Create(shm.Spec{Name: "counter", Kind: shm.KindValue, Size: 8, ElemSize: 8, Fingerprint: 42}, func(b []byte) error {
		b[0] = 7
		return nil
	})
	require.NoError(t, err)
	assert.Zero(t, obj.Offset%64, "objects are cache-line aligned")

	got, err := s.OpenObject("counter", shm.KindValue, 8, 42)
	require.NoError(t, err)
	assert.Equal(t, byte(7), got.Bytes()[0])
	_, err = s.OpenObject("counter", shm.KindArray, 8, 42)
	assert.ErrorIs(t, err, shm.ErrKindMismatch)
	_, err = s.OpenObject("counter", shm.KindValue, 4, 42)
	assert.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = s.OpenObject("counter", shm.KindValue, 8, 43)
	assert.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = s.Lookup("nothing")
	assert.ErrorIs(t, err, shm.ErrNotFound)
	_, err = s.Create(shm.Spec{Name: "counter", Kind: shm.KindValue, Size: 8}, nil)
	assert.ErrorIs(t, err, shm.ErrExists)
}

func TestCreateThatFailsInInitFreesTheName(t *testing.T) {
	s, _ := create(t, 4096)
	boom := errors.New("boom")
	_, err := s.Create(shm.Spec{Name: "x", Kind: shm.KindBytes, Size: 8}, func([]byte) error { return boom })
	assert.ErrorIs(t, err, boom)
	_, err = s.Lookup("x")
	assert.ErrorIs(t, err, shm.ErrNotFound)
	_, err = s.Create(shm.Spec{Name: "x", Kind: shm.KindBytes, Size: 8}, nil)
	assert.NoError(t, err)
}

func TestAllocatorReportsNoSpaceAndDirectoryFull(t *testing.T) {
	s, err := shm.Anonymous(1000, shm.WithObjects(2))
	require.NoError(t, err)
	defer s.Detach()
	info, err := s.Info()
	require.NoError(t, err)
	_, err = s.Create(shm.Spec{Name: "big", Kind: shm.KindBytes, Size: info.Free + 1}, nil)
	assert.ErrorIs(t, err, shm.ErrNoSpace)
	_, err = s.Create(shm.Spec{Name: "a", Kind: shm.KindBytes, Size: 8}, nil)
	require.NoError(t, err)
	_, err = s.Create(shm.Spec{Name: "b", Kind: shm.KindBytes, Size: 8}, nil)
	require.NoError(t, err)
	_, err = s.Create(shm.Spec{Name: "c", Kind: shm.KindBytes, Size: 8}, nil)
	assert.ErrorIs(t, err, shm.ErrDirectoryFull)
	objs, err := s.Objects()
	require.NoError(t, err)
	assert.Len(t, objs, 2)
}

func TestHandlesRoundTripAndRejectGarbage(t *testing.T) {
	s, _ := create(t, 1024)
	_, err := s.Create(shm.Spec{Name: "obj", Kind: shm.KindBytes, Size: 8}, nil)
	require.NoError(t, err)
	b, err := shm.EncodeRef(s, "obj", 0)
	require.NoError(t, err)
	obj, off, err := shm.DecodeRef(b, shm.Want{Kind: shm.KindBytes})
	require.NoError(t, err)
	defer obj.Segment().Detach()
	assert.Equal(t, "obj", obj.Name)
	assert.Zero(t, off)
	assert.Equal(t, s.ID(), obj.Segment().ID())
	for _, bad := range [][]byte{nil, {2}, append([]byte{1}, b[1:]...), b[:len(b)-1], append(b, 0)} {
		_, _, err := shm.DecodeRef(bad, shm.Want{Kind: shm.KindBytes})
		assert.ErrorIs(t, err, shm.ErrBadHandle, "%x", bad)
	}
	a, err := shm.Anonymous(10)
	require.NoError(t, err)
	ab, err := shm.EncodeRef(a, "", 0)
	require.NoError(t, err)
	require.NoError(t, a.Detach())
	var back shm.Segment
	assert.ErrorIs(t, back.GobDecode(ab), shm.ErrNotAttached, "a closed anonymous segment cannot be found again")
}

// Cross-process tests.

var (
	// createAndFill plays an unrelated process that creates a named segment
	// and leaves a message in it.
	createAndFill = procs.Register("shm-create-and-fill", func(name string) (string, error) {
		s, err := shm.Create(name, 4096)
		if err != nil {
			return "", err
		}
		defer s.Detach()
		_, err = s.Create(shm.Spec{Name: "msg", Kind: shm.KindBytes, Size: 32}, func(b []byte) error {
			copy(b, fmt.Sprintf("hello from %d", os.Getpid()))
			return nil
		})
		return s.ID(), err
	})

	// attachAndBlock attaches to a segment, reports its tag, and blocks
	// until killed.
	attachAndBlock = procs.Register("shm-attach-and-block", func(s *shm.Segment) (int, error) {
		obj, err := s.Lookup("ready")
		if err != nil {
			return 0, err
		}
		atomic.StoreUint64(obj.Uint64(8), s.Self())
		atomic.StoreUint32(obj.Uint32(0), 1)
		testutil.BlockForever()
		return 0, nil
	})

	attachAndReport = procs.Register("shm-attach-and-report", func(s *shm.Segment) (uint64, error) {
		return s.Self(), nil
	})
)

func TestSegmentCreatedByAnotherProcessOpensByName(t *testing.T) {
	name := testutil.Name(t)
	id, err := procs.Run(createAndFill, name)
	require.NoError(t, err)
	s, err := shm.Open(name)
	require.NoError(t, err)
	defer s.Detach()
	assert.Equal(t, id, s.ID())
	obj, err := s.Lookup("msg")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(obj.Bytes()), "hello from "))
	info, err := s.Info()
	require.NoError(t, err)
	assert.False(t, info.CreatorAlive, "the creator has exited")
}

// A killed participant reads as dead, its slot is taken over only when the
// table is full, and its old tag stays dead afterwards.
func TestKilledParticipantIsDeadAndItsSlotIsReused(t *testing.T) {
	s, err := shm.Anonymous(4096, shm.WithParticipants(2))
	require.NoError(t, err)
	defer s.Detach()
	ready, err := s.Create(shm.Spec{Name: "ready", Kind: shm.KindBytes, Size: 16}, nil)
	require.NoError(t, err)

	p := testutil.Start(t, attachAndBlock, s)
	testutil.WaitWord(t, ready.Uint32(0), p)
	victim := atomic.LoadUint64(ready.Uint64(8))
	assert.NotEqual(t, s.Self(), victim)
	assert.True(t, s.Alive(victim))

	require.NoError(t, p.Kill())
	_ = p.Join()
	assert.False(t, s.Alive(victim), "a killed participant is dead")

	// The table has two slots: ours and the dead one, which a newcomer takes over.
	tag, err := procs.Run(attachAndReport, s)
	require.NoError(t, err)
	assert.Equal(t, victim&(1<<10-1), tag&(1<<10-1), "same slot")
	assert.NotEqual(t, victim, tag, "another generation")
	assert.False(t, s.Alive(victim))
	assert.False(t, s.Alive(tag), "the newcomer exited and left its slot")
	assert.False(t, s.Alive(0))
	assert.False(t, s.Alive(1<<60), "a malformed ID is not alive")
}

func TestTooManyParticipants(t *testing.T) {
	s, err := shm.Anonymous(4096, shm.WithParticipants(1))
	require.NoError(t, err)
	defer s.Detach()
	_, err = procs.Run(attachAndReport, s, procs.WithStderr(io.Discard))
	var ee *procs.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, ee.Message, shm.ErrTooManyParticipants.Error())
}
