package procs

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// ppoll waits for fds (whose slice has room for one more) and returns
// their revents. A context that can end adds an eventfd that context's
// AfterFunc makes readable.
func ppoll(ctx context.Context, fds []unix.PollFd, timeout time.Duration) ([]int16, error) {
	n := len(fds)
	if ctx.Done() != nil {
		efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			return nil, fmt.Errorf("procs: wait: eventfd: %w", err)
		}
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			_, _ = unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired // the write must be done before the descriptor closes
			}
			_ = unix.Close(efd)
		}()
		fds = append(fds, unix.PollFd{Fd: int32(efd), Events: unix.POLLIN})
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		var ts *unix.Timespec
		if timeout >= 0 {
			left := time.Duration(0)
			if timeout > 0 {
				left = max(time.Until(deadline), 0)
			}
			t := unix.NsecToTimespec(left.Nanoseconds())
			ts = &t
		}
		_, err := unix.Ppoll(fds, ts, nil)
		if err == unix.EINTR {
			continue // the Go runtime's own signals; the deadline stands
		}
		if err != nil {
			return nil, fmt.Errorf("procs: wait: ppoll: %w", err)
		}
		if len(fds) > n && fds[n].Revents != 0 {
			return nil, ctx.Err()
		}
		out := make([]int16, n)
		for i := range n {
			out[i] = fds[i].Revents
		}
		return out, nil
	}
}

// pendingBytes returns how many bytes the kernel holds for a read of fd.
func pendingBytes(fd int) (int, error) {
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD
	if err != nil {
		return 0, fmt.Errorf("FIONREAD: %w", err)
	}
	return n, nil
}
