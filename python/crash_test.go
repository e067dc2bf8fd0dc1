package python_test

import (
	"errors"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// holderArg is what the Go children killed mid-operation get: the flag
// word (4 bytes at the start of object Flag) tells the test they are there.
type holderArg struct {
	Seg  *shm.Segment
	Lock *semaphore.Mutex
	Q    *ringqueue.Queue
	Flag string
}

func (a holderArg) raise() error {
	obj, err := a.Seg.Lookup(a.Flag)
	if err != nil {
		return err
	}
	atomic.StoreUint32(obj.Uint32(0), 1)
	return nil
}

var (
	// goLockHolder locks and waits to be killed inside the lock.
	goLockHolder = procs.Register("python-lock-holder", func(a holderArg) (int, error) {
		if err := a.Lock.Lock(); err != nil {
			return 0, err
		}
		if err := a.raise(); err != nil {
			return 0, err
		}
		testutil.BlockForever()
		return 0, nil
	})

	// goReserver claims a queue slot, writes half a message and waits to
	// be killed mid-put.
	goReserver = procs.Register("python-reserver", func(a holderArg) (int, error) {
		r, err := a.Q.Reserve(8)
		if err != nil {
			return 0, err
		}
		copy(r.Bytes(), "torn")
		if err := a.raise(); err != nil {
			return 0, err
		}
		testutil.BlockForever()
		return 0, nil
	})
)

// flagWord makes the flag object a Go child raises.
func flagWord(t *testing.T, seg *shm.Segment) *uint32 {
	obj, err := seg.Create(shm.Spec{Name: "flag", Kind: shm.KindBytes, Size: 64}, nil)
	require.NoError(t, err)
	return obj.Uint32(0)
}

// TestPythonProducerKilledMidPut: a Python producer SIGKILLed between its
// claim and its publication leaves a claim naming a dead participant; a Go
// consumer waiting behind it reclaims it as skipped: the half-written
// message never arrives, the next one does.
func TestPythonProducerKilledMidPut(t *testing.T) {
	seg, name := namedSeg(t, 1<<20)
	q, err := ringqueue.New(seg, "q", ringqueue.Options{Capacity: 8, SlotSize: 64})
	require.NoError(t, err)
	p := startPy(t, "put_then_die", name, "q")
	p.expect(t, "claimed")
	p.kill(t)
	require.NoError(t, q.Put([]byte("after")))
	buf := make([]byte, 64)
	for _, want := range []string{"before", "after"} {
		n, err := q.GetTimeout(buf, testutil.Patience)
		require.NoError(t, err)
		require.Equal(t, want, string(buf[:n]))
	}
	obj, err := seg.Lookup("q")
	require.NoError(t, err)
	st, err := ringqueue.Inspect(obj)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Reclaimed)
	require.Zero(t, st.Len)
}

// TestGoProducerKilledMidPut is the reverse: a Go producer killed inside
// Reserve, a Python consumer that passes its claim over.
func TestGoProducerKilledMidPut(t *testing.T) {
	seg, name := namedSeg(t, 1<<20)
	q, err := ringqueue.New(seg, "q", ringqueue.Options{Capacity: 8, SlotSize: 64})
	require.NoError(t, err)
	require.NoError(t, q.Put([]byte("before")))
	flag := flagWord(t, seg)
	child := testutil.Start(t, goReserver, holderArg{Seg: seg, Q: q, Flag: "flag"})
	testutil.WaitWord(t, flag, child)
	require.NoError(t, child.Kill())
	_ = child.JoinTimeout(testutil.Patience)
	require.NoError(t, q.Put([]byte("after")))
	out, stderr, err := runPy(t, "get_n", name, "q", "2", "30")
	require.NoError(t, err, stderr)
	require.Equal(t, "ok before after", out)
	obj, err := seg.Lookup("q")
	require.NoError(t, err)
	st, err := ringqueue.Inspect(obj)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Reclaimed)
}

// TestPythonLockHolderKilled: Go's next Lock gets ErrOwnerDead.
func TestPythonLockHolderKilled(t *testing.T) {
	seg, name := namedSeg(t, 1<<16)
	mu, err := semaphore.NewMutex(seg, "mu")
	require.NoError(t, err)
	p := startPy(t, "lock_then_die", name, "mu")
	p.expect(t, "locked")
	require.True(t, mu.Locked())
	p.kill(t)
	err = mu.LockTimeout(testutil.Patience)
	require.ErrorIs(t, err, semaphore.ErrOwnerDead)
	require.NoError(t, mu.MarkConsistent())
	require.NoError(t, mu.Unlock())
	require.NoError(t, mu.Lock())
	require.NoError(t, mu.Unlock())
}

// TestGoLockHolderKilled: Python's next acquire raises OwnerDead, and after
// mark_consistent and release the lock is usable again from Go.
func TestGoLockHolderKilled(t *testing.T) {
	seg, name := namedSeg(t, 1<<16)
	mu, err := semaphore.NewMutex(seg, "mu")
	require.NoError(t, err)
	flag := flagWord(t, seg)
	child := testutil.Start(t, goLockHolder, holderArg{Seg: seg, Lock: mu, Flag: "flag"})
	testutil.WaitWord(t, flag, child)
	require.NoError(t, child.Kill())
	_ = child.JoinTimeout(testutil.Patience)
	out, stderr, err := runPy(t, "lock_after_death", name, "mu")
	require.NoError(t, err, stderr)
	require.Equal(t, "ok ownerdead", out)
	require.NoError(t, mu.LockTimeout(testutil.Patience))
	require.NoError(t, mu.Unlock())
}

// TestInterruptBlockedGet: SIGINT to a Python child blocked in get raises
// KeyboardInterrupt promptly; its finally closes the segment, so its
// participant entry is given back.
func TestInterruptBlockedGet(t *testing.T) {
	seg, name := namedSeg(t, 1<<20)
	_, err := ringqueue.New(seg, "q", ringqueue.Options{Capacity: 8, SlotSize: 64})
	require.NoError(t, err)
	obj, err := seg.Lookup("q")
	require.NoError(t, err)
	p := startPy(t, "block_get", name, "q")
	p.expect(t, "getting")
	testutil.WaitUntil(t, func() bool {
		st, err := ringqueue.Inspect(obj)
		return err == nil && st.ConsumersWaiting == 1
	}, "the python consumer never slept")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	p.expect(t, "closed")
	err = p.cmd.Wait()
	var ee interface{ ExitCode() int }
	require.True(t, errors.As(err, &ee), "python exited with %v", err)
	require.Contains(t, p.errb.String(), "KeyboardInterrupt")
	info, err := seg.Info()
	require.NoError(t, err)
	for _, pt := range info.Participants {
		require.NotEqual(t, p.cmd.Process.Pid, pt.Pid, "the interrupted child kept its participant entry")
	}
	st, err := ringqueue.Inspect(obj)
	require.NoError(t, err)
	require.Zero(t, st.ConsumersWaiting, "the interrupted sleeper's count was left behind")
}

// TestEvent: a Go Set wakes a Python waiter, and a Python set wakes a Go
// waiter.
func TestEvent(t *testing.T) {
	seg, name := namedSeg(t, 1<<16)
	ping, err := semaphore.NewEvent(seg, "ping")
	require.NoError(t, err)
	pong, err := semaphore.NewEvent(seg, "pong")
	require.NoError(t, err)
	p := startPy(t, "event", name, "ping", "pong")
	p.expect(t, "waiting")
	// Set only once Python sleeps in the kernel's futex queue (counted in
	// the event's sleepers word), so that Go's wake is what wakes it.
	obj, err := seg.Lookup("ping")
	require.NoError(t, err)
	testutil.WaitUntil(t, func() bool { return atomic.LoadUint32(obj.Uint32(4)) == 1 }, "python never slept on the event")
	ping.Set()
	require.NoError(t, pong.WaitTimeout(testutil.Patience), p.errb.String())
	p.expect(t, "ok")
	require.NoError(t, p.cmd.Wait(), p.errb.String())
}

// TestSemaphore: a Go Release wakes a Python acquirer; Python's releases
// reach Go, and the bound holds on the Python side too.
func TestSemaphore(t *testing.T) {
	seg, name := namedSeg(t, 1<<16)
	s, err := semaphore.NewBoundedSemaphore(seg, "s", 2)
	require.NoError(t, err)
	require.NoError(t, s.Acquire())
	require.NoError(t, s.Acquire())
	p := startPy(t, "semaphore", name, "s")
	p.expect(t, "waiting")
	obj, err := seg.Lookup("s")
	require.NoError(t, err)
	testutil.WaitUntil(t, func() bool { return atomic.LoadUint32(obj.Uint32(4)) == 1 }, "python never slept on the semaphore")
	require.NoError(t, s.Release())
	p.expect(t, "ok 2")
	require.NoError(t, p.cmd.Wait(), p.errb.String())
	require.NoError(t, s.TryAcquire())
	require.NoError(t, s.TryAcquire())
	require.ErrorIs(t, s.TryAcquire(), semaphore.ErrWouldBlock)
}
