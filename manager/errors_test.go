package manager

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every package's ErrTimeout, and the errors real Timeout calls return,
// match context.DeadlineExceeded: code that handles a context's deadline
// handles every timeout of the module.
func TestTimeoutsMatchDeadlineExceeded(t *testing.T) {
	seg := testutil.Anonymous(t, 1<<16)
	mu, err := semaphore.NewMutex(seg, "mu")
	require.NoError(t, err)
	require.NoError(t, mu.Lock())
	q, err := ringqueue.New(seg, "q", ringqueue.Options{Capacity: 2, SlotSize: 8})
	require.NoError(t, err)
	_, qerr := q.GetTimeout(make([]byte, 8), time.Millisecond)
	rm, err := NewMutex(startServer(t, "", Options{}).connect(t))
	require.NoError(t, err)
	require.NoError(t, rm.Lock())

	for name, err := range map[string]error{
		"semaphore.ErrTimeout":  semaphore.ErrTimeout,
		"ringqueue.ErrTimeout":  ringqueue.ErrTimeout,
		"procs.ErrTimeout":      procs.ErrTimeout,
		"manager.ErrTimeout":    ErrTimeout,
		"semaphore LockTimeout": mu.LockTimeout(time.Millisecond),
		"ringqueue GetTimeout":  qerr,
		"manager Mutex timeout": rm.LockTimeout(time.Millisecond),
	} {
		assert.ErrorIs(t, err, context.DeadlineExceeded, name)
		assert.ErrorIs(t, err, ErrTimeout, "%s is the one ErrTimeout", name)
	}
	assert.ErrorIs(t, qerr, ringqueue.ErrEmpty, "a timed-out get still says why")
}

// A manager's lock and queue errors are the library's own values, through
// the wire too: code written for a local Mutex handles a remote one.
func TestManagerSentinelsAreTheLibrarys(t *testing.T) {
	for _, p := range []struct{ manager, library error }{
		{ErrEmpty, ringqueue.ErrEmpty},
		{ErrFull, ringqueue.ErrFull},
		{ErrTaskDone, ringqueue.ErrTaskDoneTooMany},
		{ErrWouldBlock, semaphore.ErrWouldBlock},
		{ErrOwnerDead, semaphore.ErrOwnerDead},
		{ErrNotOwner, semaphore.ErrNotOwner},
		{ErrUnlocked, semaphore.ErrUnlocked},
		{ErrBoundExceeded, semaphore.ErrBoundExceeded},
		{ErrBrokenBarrier, semaphore.ErrBrokenBarrier},
		{ErrInvalid, semaphore.ErrInvalid},
		{ErrInvalid, ringqueue.ErrInvalid},
		{ErrTimeout, semaphore.ErrTimeout},
		{ErrNotFound, shm.ErrNotFound},
	} {
		assert.True(t, p.manager == p.library, "manager's %q is another value than the library's", p.library)
	}

	// Over the wire: the client maps each code back to the shared value.
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	l, err := NewMutex(m, Named("L"))
	require.NoError(t, err)
	assert.ErrorIs(t, l.Unlock(), semaphore.ErrUnlocked)
	holder := ts.connect(t)
	hl, err := NewMutex(holder, Named("L"))
	require.NoError(t, err)
	require.NoError(t, hl.Lock())
	assert.ErrorIs(t, l.TryLock(), semaphore.ErrWouldBlock)
	require.NoError(t, holder.Close())
	err = l.Lock()
	assert.ErrorIs(t, err, semaphore.ErrOwnerDead)
	assert.True(t, semaphore.Acquired(err))
	require.NoError(t, l.Unlock())

	q, err := NewQueue[int](m, 1)
	require.NoError(t, err)
	_, err = q.TryGet()
	assert.ErrorIs(t, err, ringqueue.ErrEmpty)
	require.NoError(t, q.Put(1))
	assert.ErrorIs(t, q.TryPut(2), ringqueue.ErrFull)

	d, err := NewDict[string, int](m)
	require.NoError(t, err)
	_, err = d.Get("missing")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

// Locker is the small shape a local and a remote lock share: code that
// takes one can be handed either.
type Locker interface {
	Lock() error
	TryLock() error
	LockContext(ctx context.Context) error
	Unlock() error
}

func TestLocalAndRemoteMutexAreOneLocker(t *testing.T) {
	local, err := semaphore.NewMutex(testutil.Anonymous(t, 4096), "mu")
	require.NoError(t, err)
	remote, err := NewMutex(startServer(t, "", Options{}).connect(t))
	require.NoError(t, err)
	for name, l := range map[string]Locker{"local": local, "remote": remote} {
		require.NoError(t, l.Lock(), name)
		assert.ErrorIs(t, l.TryLock(), semaphore.ErrWouldBlock, name)
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		assert.ErrorIs(t, l.LockContext(ctx), context.DeadlineExceeded, name)
		cancel()
		require.NoError(t, l.Unlock(), name)
		assert.ErrorIs(t, l.Unlock(), semaphore.ErrUnlocked, name)
	}
}
