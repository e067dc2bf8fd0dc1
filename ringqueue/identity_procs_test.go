package ringqueue_test

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	. "github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// churnArg is what the churn test's children get.
type churnArg struct {
	Seg   *shm.Segment
	Lock  *semaphore.Mutex
	Q     *Queue
	Go    *semaphore.Semaphore // the parent lets a claimant commit
	Flags string               // a bytes object: word 0 "claimed", word 1 "locked"
	N     int
}

var (
	// churnHolder locks the mutex, claims a queue slot and waits to be killed.
	churnHolder = procs.Register("ringqueue-churn-holder", func(a churnArg) (int, error) {
		if err := a.Lock.Lock(); err != nil {
			return 0, err
		}
		if _, err := a.Q.Reserve(8); err != nil {
			return 0, err
		}
		flags, err := a.Seg.Lookup(a.Flags)
		if err != nil {
			return 0, err
		}
		atomic.StoreUint32(flags.Uint32(4), 1)
		testutil.BlockForever()
		return 0, nil
	})

	// churnChild is one short-lived process of the churn: it must not be
	// taken for the dead holder (its Unlock fails, it does not hold the
	// lock), and the claim it makes must not be reclaimed while it lives.
	churnChild = procs.Register("ringqueue-churn-child", func(a churnArg) (uint64, error) {
		if err := a.Lock.Unlock(); !errors.Is(err, semaphore.ErrNotOwner) {
			return 0, fmt.Errorf("child %d: a stranger's Unlock of the dead holder's lock: %v", a.N, err)
		}
		if a.Lock.HeldBySelf() {
			return 0, fmt.Errorf("child %d: holds the dead holder's lock", a.N)
		}
		r, err := a.Q.Reserve(8)
		if err != nil {
			return 0, err
		}
		flags, err := a.Seg.Lookup(a.Flags)
		if err != nil {
			return 0, err
		}
		atomic.StoreUint32(flags.Uint32(0), 1)
		if err := a.Go.AcquireTimeout(time.Minute); err != nil {
			return 0, err
		}
		copy(r.Bytes(), fmt.Sprintf("%08d", a.N))
		if err := r.Commit(8); err != nil {
			return 0, fmt.Errorf("child %d: its claim was taken: %w", a.N, err)
		}
		return a.Seg.Self(), nil
	})
)

// churnChildren is how many children the churn test starts: past the
// 1,024 attaches after which the old 10-bit generation handed a dead
// process's tag to a live one (fewer with -short or under the race
// detector, whose children start slowly: the in-process tests are what
// it is for). MULTIPROC_CHURN sets it, for a soak.
func churnChildren(t *testing.T) int {
	n := 1100
	if testing.Short() || raceBuild {
		n = 64
	}
	if s := os.Getenv("MULTIPROC_CHURN"); s != "" {
		v, err := strconv.Atoi(s)
		require.NoError(t, err)
		n = v
	}
	return n
}

// Thousands of short-lived children attach to a 2-entry table, one after
// another, while a killed process's lock and queue claim stay where it
// left them: every child takes the dead entry or the one the previous
// child gave back, so one entry churns through more generations than the
// old tag could count. No child may ever be taken for the dead holder or
// have its claim reclaimed, and the dead holder's lock still comes back as
// ErrOwnerDead at the end.
func TestChurnNeverHandsADeadProcessesIdentityToALiveOne(t *testing.T) {
	seg2, err := shm.Anonymous(1<<16, shm.WithParticipants(2))
	require.NoError(t, err)
	defer seg2.Detach()
	lock, err := semaphore.NewMutex(seg2, "lock")
	require.NoError(t, err)
	q, err := New(seg2, "q", Options{Capacity: 4, SlotSize: 8})
	require.NoError(t, err)
	goSem, err := semaphore.NewSemaphore(seg2, "go", 0)
	require.NoError(t, err)
	flags, err := seg2.Create(shm.Spec{Name: "flags", Kind: shm.KindBytes, Size: 64}, nil)
	require.NoError(t, err)
	arg := churnArg{Seg: seg2, Lock: lock, Q: q, Go: goSem, Flags: "flags"}

	holder := testutil.Start(t, churnHolder, arg)
	testutil.WaitWord(t, flags.Uint32(4), holder)
	require.NoError(t, holder.Kill())
	_ = holder.Join()
	// Find the holder dead once, so that the handle has a verdict cached.
	require.True(t, q.ReclaimLastClaim(), "the dead holder's claim is reclaimed")
	buf := make([]byte, 8)
	_, err = q.TryGet(buf)
	require.ErrorIs(t, err, ErrEmpty, "the dead holder's claim is skipped, nothing delivered")

	seen := map[uint64]bool{}
	for i := range churnChildren(t) {
		atomic.StoreUint32(flags.Uint32(0), 0)
		arg.N = i
		p, err := procs.Start(churnChild, arg)
		require.NoError(t, err)
		testutil.WaitWord(t, flags.Uint32(0), p)
		reclaimed := q.ReclaimLastClaim()
		require.NoError(t, goSem.Release())
		require.NoError(t, p.JoinTimeout(testutil.Patience))
		require.False(t, reclaimed, "child %d: a live child's claim was reclaimed", i)
		id, err := procs.Result[uint64](p)
		require.NoError(t, err)
		require.False(t, seen[id], "child %d: ID %#x handed out twice", i, id)
		seen[id] = true
		n, err := q.TryGet(buf)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("%08d", i), string(buf[:n]), "child %d: message", i)
	}
	require.ErrorIs(t, lock.Lock(), semaphore.ErrOwnerDead, "the killed holder's lock")
	require.NoError(t, lock.MarkConsistent())
	require.NoError(t, lock.Unlock())
}
