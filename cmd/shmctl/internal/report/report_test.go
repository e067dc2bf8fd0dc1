package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testutil.Main(m) }

func objectNamed(t *testing.T, s Segment, name string) Object {
	t.Helper()
	for _, o := range s.Objects {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("no object %q", name)
	return Object{}
}

type lockArgs struct {
	Name  string
	Ready *semaphore.Event
}

// lockAndBlock opens the segment, locks its mutex and blocks until killed.
var lockAndBlock = procs.Register("shmctl-report-lock-and-block", func(a lockArgs) (int, error) {
	seg, err := shm.Open(a.Name)
	if err != nil {
		return 0, err
	}
	mu, err := semaphore.OpenMutex(seg, "lock")
	if err != nil {
		return 0, err
	}
	if err := mu.Lock(); err != nil {
		return 0, err
	}
	a.Ready.Set()
	testutil.BlockForever()
	return 0, nil
})

// A lock taken over from a killed holder shows inconsistent until marked
// consistent; released while inconsistent, it shows not recoverable.
func TestLockTakenOverFromDeadHolderShowsInconsistentThenNotRecoverable(t *testing.T) {
	name := testutil.Name(t)
	seg, err := shm.Create(name, 4096)
	require.NoError(t, err)
	defer seg.Detach()
	mu, err := semaphore.NewMutex(seg, "lock")
	require.NoError(t, err)
	ctl, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer ctl.Detach()
	ready, err := semaphore.NewEvent(ctl, "ready")
	require.NoError(t, err)

	p := testutil.Start(t, lockAndBlock, lockArgs{Name: name, Ready: ready})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-p.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	require.NoError(t, ready.WaitContext(ctx), "child never locked")
	require.NoError(t, p.Kill())
	_ = p.Join()

	load := func() *Lock {
		s, err := Load(name, Options{Objects: true})
		require.NoError(t, err)
		o := objectNamed(t, s, "lock")
		require.Empty(t, o.Error)
		return o.Detail.(*Lock)
	}
	l := load()
	assert.Equal(t, &Holder{ID: l.Holder.ID, Pid: p.Pid(), Attached: true, Alive: false}, l.Holder)
	assert.Equal(t, fmt.Sprintf("locked by pid %d (dead)", p.Pid()), l.String())

	require.ErrorIs(t, mu.TryLock(), semaphore.ErrOwnerDead)
	l = load()
	assert.Equal(t, &Holder{ID: seg.Self(), Pid: os.Getpid(), Attached: true, Alive: true}, l.Holder)
	assert.False(t, l.Consistent)
	assert.True(t, l.Recoverable)
	assert.Equal(t, fmt.Sprintf("locked by pid %d (alive), inconsistent", os.Getpid()), l.String())

	require.NoError(t, mu.Unlock())
	l = load()
	assert.False(t, l.Locked)
	assert.False(t, l.Recoverable)
	assert.Equal(t, "not recoverable", l.String())
}

// An object whose own header is garbage is reported with its error; the
// rest of the segment is still described.
func TestCorruptObjectIsAnErrorNotACrash(t *testing.T) {
	name := testutil.Name(t)
	seg, err := shm.Create(name, 1<<16)
	require.NoError(t, err)
	defer seg.Detach()
	_, err = value.New[int64](seg, "good", 1)
	require.NoError(t, err)
	_, err = value.New[int64](seg, "bad", 1)
	require.NoError(t, err)
	obj, err := seg.Lookup("bad")
	require.NoError(t, err)
	copy(obj.Bytes(), "garbage!") // the value header's magic
	_, err = seg.Create(shm.Spec{Name: "tiny", Kind: shm.KindBarrier, Size: 8}, nil)
	require.NoError(t, err)

	s, err := Load(name, Options{Objects: true})
	require.NoError(t, err)
	assert.Equal(t, StatusSegment, s.Status)
	assert.Empty(t, objectNamed(t, s, "good").Error)
	bad := objectNamed(t, s, "bad")
	assert.Contains(t, bad.Error, "bad value magic")
	assert.Nil(t, bad.Detail)
	assert.True(t, strings.HasPrefix(bad.Summary, "error: "))
	assert.NotEmpty(t, objectNamed(t, s, "tiny").Error)
}

// A segment truncated while mapped raises SIGBUS on the next read; it is
// reported as corrupt, not a crash.
func TestSegmentTruncatedUnderTheMappingIsCorrupt(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's atomics fault where no panic can be recovered")
	}
	name := testutil.Name(t)
	seg, err := shm.Create(name, 1<<16)
	require.NoError(t, err)
	_, err = semaphore.NewMutex(seg, "lock")
	require.NoError(t, err)
	require.NoError(t, seg.Detach()) // only the view below maps it

	v, err := shm.OpenView(name)
	require.NoError(t, err)
	defer v.Detach()
	require.NoError(t, os.Truncate(filepath.Join(shm.Dir, name), 0))
	var s Segment
	err = safely(func() error { return fill(&s, v, Options{Objects: true}) })
	assert.ErrorIs(t, err, shm.ErrCorrupt)
	assert.Contains(t, err.Error(), "reading the segment failed")
}

func TestCollectable(t *testing.T) {
	now := time.Now()
	old := now.Add(-time.Hour)
	seg := func(creatorAlive bool, alive ...bool) *Segment {
		s := &Segment{Status: StatusSegment, Created: &old, Creator: &Process{Pid: 10, Alive: creatorAlive}}
		for i, a := range alive {
			s.Participants = append(s.Participants, Participant{ID: uint64(i + 1), Pid: 11 + i, Alive: a})
		}
		return s
	}
	mapped := seg(false)
	mapped.MappedBy = []int{99, 100}
	cases := []struct {
		name   string
		s      *Segment
		minAge time.Duration
		ok     bool
		reason string
	}{
		{"all dead", seg(false, false, false), 0, true, "creator pid 10 dead, 2 participant(s) dead"},
		{"nobody attached", seg(false), 0, true, "creator pid 10 dead"},
		{"creator alive", seg(true), 0, false, "creator pid 10 is alive"},
		{"participant alive", seg(false, false, true), 0, false, "attached and alive: pid 12"},
		{"mapped", mapped, 0, false, "mapped by pid 99, 100"},
		{"too young", seg(false), 2 * time.Hour, false, "younger than 2h0m0s (1h0m0s)"},
		{"old enough", seg(false), 30 * time.Minute, true, "creator pid 10 dead"},
		{"foreign", &Segment{Status: StatusForeign}, 0, false, "not a multiproc segment: never removed"},
		{"corrupt", &Segment{Status: StatusCorrupt}, 0, false, "corrupt: not removed (check it, then rm -f)"},
		{"version", &Segment{Status: StatusVersion}, 0, false, "version: not removed (check it, then rm -f)"},
		{"unreadable", &Segment{Status: StatusUnreadable}, 0, false, "unreadable: not removed (check it, then rm -f)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, reason := Collectable(c.s, c.minAge, now)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.reason, reason)
		})
	}
}

func TestListFiltersByPatternAndLoadReportsMissing(t *testing.T) {
	name := testutil.Name(t)
	seg, err := shm.Create(name, 4096)
	require.NoError(t, err)
	defer seg.Detach()
	segs, err := List([]string{name[:len(name)-3] + "*"}, Options{MappedBy: true})
	require.NoError(t, err)
	require.Len(t, segs, 1)
	assert.Equal(t, name, segs[0].Name)
	assert.Empty(t, segs[0].MappedBy, "this process is not counted as a mapper")
	assert.True(t, segs[0].InUse())

	_, err = List([]string{"["}, Options{})
	assert.Error(t, err)
	_, err = Load(name+"-missing", Options{})
	assert.True(t, errors.Is(err, ErrNoSuchSegment), "%v", err)
}
