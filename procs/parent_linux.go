package procs

import (
	"context"
	"os"

	"golang.org/x/sys/unix"
)

// watchParent calls cancel once process pid, this one's parent, has ended.
func watchParent(pid int, cancel context.CancelFunc) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		cancel() // ESRCH: gone already; ENOSYS and the rest: no way to watch, so say it is gone rather than never
		return
	}
	// The pidfd names whatever process has the pid now. While the parent
	// lives, the pid is its (and this process its child); once it died the
	// pid may name a stranger, but then this process has a new parent.
	if os.Getppid() != pid {
		unix.Close(fd)
		cancel()
		return
	}
	// A non-blocking descriptor joins the runtime's poller.
	f := os.NewFile(uintptr(fd), "pidfd-parent")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		cancel()
		return
	}
	go func() {
		defer f.Close()
		defer cancel()
		// A pidfd polls readable once its process has exited; until then
		// Read parks this goroutine in the poller.
		_ = rc.Read(func(fd uintptr) bool {
			n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0)
			return n > 0 || (err != nil && err != unix.EINTR)
		})
	}()
}
