package procs_test

import (
	"sync/atomic"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The pidfd that watches the grandchild is Linux's.

// A daemon grandchild dies with its parent, even when the parent is killed.
func TestDaemonDiesWhenItsParentIsKilled(t *testing.T) {
	s, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer s.Detach()
	ready, err := s.Create(shm.Spec{Name: "ready", Kind: shm.KindBytes, Size: 8}, nil)
	require.NoError(t, err)
	p, err := procs.Start(startDaemonAndBlock, s)
	require.NoError(t, err)
	testutil.WaitWord(t, ready.Uint32(0), p)
	grandchild := int(atomic.LoadUint32(ready.Uint32(4)))
	pidfd, err := unix.PidfdOpen(grandchild, 0)
	require.NoError(t, err)
	defer unix.Close(pidfd)
	require.NoError(t, p.Kill())
	_ = p.Join()
	// The pidfd becomes readable when the grandchild exits.
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 20_000)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "daemon grandchild %d outlived its parent", grandchild)
}
