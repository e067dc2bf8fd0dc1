package procs

import (
	"context"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// envParent carries the parent's pid to the child: by the time the child
// asks os.Getppid, the parent may have died and the child been re-parented.
const envParent = "MULTIPROC_PARENT"

// parentPid is envParent's value, read by Main in a child; 0 elsewhere.
var parentPid int

var parentCtx = struct {
	once sync.Once
	ctx  context.Context
}{}

// ParentContext returns a context that is cancelled when the process that
// started this one ends, however it ends (SIGKILL included). In a process
// that Start did not start it is never cancelled.
//
// A non-daemon child outlives its parent: it goes on with its work, and a
// child blocked on a queue nobody will write to any more waits forever.
// Pass ParentContext to its blocking calls (GetContext, LockContext, ...)
// and they return when the parent is gone, so it can clean up and end.
// A daemon child (WithDaemon) needs none of this: the kernel kills it with
// its parent, at once and without a chance to clean up — the right choice
// for helpers whose work means nothing without the parent.
//
// The watch costs no thread and no polling loop: a pidfd of the parent
// (Linux 5.3 or later) waits in the runtime's network poller, which wakes
// when the parent exits.
func ParentContext() context.Context {
	parentCtx.once.Do(func() {
		if parentPid <= 0 { // not a child
			parentCtx.ctx = context.Background()
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		parentCtx.ctx = ctx
		watchParent(parentPid, cancel)
	})
	return parentCtx.ctx
}

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
