//go:build linux

package procs_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Words of the "orphan" object: what the middle child and its own child
// publish.
const (
	orphanPid      = 0  // the grandchild's pid
	orphanWatching = 4  // 1 once the grandchild holds ParentContext
	orphanNoticed  = 8  // 1 once its context was cancelled
	orphanSize     = 12 // bytes
)

var (
	// waitForParent waits on ParentContext and records that it ended.
	waitForParent = procs.Register("wait-for-parent", func(s *shm.Segment) (struct{}, error) {
		obj, err := s.Lookup("orphan")
		if err != nil {
			return struct{}{}, err
		}
		ctx := procs.ParentContext()
		atomic.StoreUint32(obj.Uint32(orphanWatching), 1)
		<-ctx.Done()
		atomic.StoreUint32(obj.Uint32(orphanNoticed), 1)
		return struct{}{}, nil
	})

	// startOrphan starts waitForParent, non-daemon, and blocks until killed.
	startOrphan = procs.Register("start-orphan", func(s *shm.Segment) (struct{}, error) {
		obj, err := s.Lookup("orphan")
		if err != nil {
			return struct{}{}, err
		}
		g, err := procs.Start(waitForParent, s)
		if err != nil {
			return struct{}{}, err
		}
		atomic.StoreUint32(obj.Uint32(orphanPid), uint32(g.Pid()))
		testutil.BlockForever()
		return struct{}{}, nil
	})
)

func TestParentContextEndsWhenTheParentIsKilled(t *testing.T) {
	s := testutil.Anonymous(t, 4096)
	obj, err := s.Create(shm.Spec{Name: "orphan", Kind: shm.KindBytes, Size: orphanSize}, nil)
	require.NoError(t, err)
	p := testutil.Start(t, startOrphan, s)
	testutil.WaitWord(t, obj.Uint32(orphanWatching), p)
	pid := int(atomic.LoadUint32(obj.Uint32(orphanPid)))
	require.NotZero(t, pid)
	// Watch the grandchild's end; it is alive (it is watching).
	pidfd, err := unix.PidfdOpen(pid, 0)
	require.NoError(t, err)
	defer unix.Close(pidfd)
	assert.Zero(t, atomic.LoadUint32(obj.Uint32(orphanNoticed)), "cancelled while the parent lives")

	require.NoError(t, p.Kill())
	require.Error(t, p.JoinTimeout(testutil.Patience))
	testutil.WaitUntil(t, func() bool { return atomic.LoadUint32(obj.Uint32(orphanNoticed)) == 1 },
		"the orphan's ParentContext was not cancelled")
	// And it ended: nothing is left running.
	n, err := unix.Poll([]unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}, int(testutil.Patience/time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the orphan did not end")
}

func TestParentContextOfTheFirstProcessNeverEnds(t *testing.T) {
	assert.Nil(t, procs.ParentContext().Done())
}
