package procs

import (
	"context"
	"sync"
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
