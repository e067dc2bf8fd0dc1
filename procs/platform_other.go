//go:build !linux

package procs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/multiproc-go/multiproc/shm"
	"golang.org/x/sys/unix"
)

// Children need Linux: they are /proc/self/exe started again, a daemon
// dies with its parent through PR_SET_PDEATHSIG, a child watches its
// parent through a pidfd, and what they share lives in segments that
// only Linux has (see shm). Elsewhere starting a process, making a Pipe
// and waiting on Conns report errors.ErrUnsupported, so the module builds
// on every Unix and fails clearly where it would run.

func unsupported(op string) error {
	return fmt.Errorf("procs: %s: %w (processes of this binary need Linux)", op, errors.ErrUnsupported)
}

func startChild(fname string, arg []byte, segs []*shm.Segment, files []*os.File, o options) (*Process, error) {
	return nil, unsupported("start " + o.name)
}

func pipeFds(duplex bool) (fds [2]int, err error) {
	return fds, unsupported("pipe")
}

// recvmsgFlags is never used off Linux: no Conn can be made there.
const recvmsgFlags = 0

func ppoll(ctx context.Context, fds []unix.PollFd, timeout time.Duration) ([]int16, error) {
	return nil, unsupported("wait")
}

// watchParent never runs off Linux (no child can be started there); like
// the Linux version when it has no way to watch, it says the parent is
// gone rather than never.
func watchParent(pid int, cancel context.CancelFunc) { cancel() }

func pendingBytes(fd int) (int, error) {
	return 0, unsupported("recv")
}
