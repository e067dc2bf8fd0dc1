package manager

import (
	"context"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Try forms the server has no method for (Event.TryWait,
// JoinableQueue.TryJoin), XTimeout(0) as one attempt, and the Condition's
// WaitFor forms.

type consumeJob struct {
	Q    *JoinableQueue[int]
	Done *Event
}

// consume takes one item, marks it done, and sets Done.
var consume = procs.Register("manager.test.consume", func(j consumeJob) (int, error) {
	v, err := j.Q.GetTimeout(testutil.Patience)
	if err != nil {
		return 0, err
	}
	if err := j.Q.TaskDone(); err != nil {
		return 0, err
	}
	return v, j.Done.Set()
})

func TestEventAndJoinTryFormsAcrossProcesses(t *testing.T) {
	noChildren(t)
	m := startServer(t, "", Options{}).connect(t)
	q, err := NewJoinableQueue[int](m, 0)
	require.NoError(t, err)
	done, err := NewEvent(m)
	require.NoError(t, err)
	require.NoError(t, q.Put(7))

	assert.ErrorIs(t, q.TryJoin(), ErrWouldBlock)
	err = q.JoinTimeout(0)
	assert.ErrorIs(t, err, ErrWouldBlock)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, q.JoinTimeout(10*time.Millisecond), ErrTimeout)
	assert.ErrorIs(t, done.TryWait(), ErrWouldBlock)
	err = done.WaitTimeout(0)
	assert.ErrorIs(t, err, ErrWouldBlock)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	p, err := procs.Start(consume, consumeJob{Q: q, Done: done})
	require.NoError(t, err)
	require.NoError(t, q.JoinTimeout(testutil.Patience))
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	require.NoError(t, done.WaitContext(ctx))
	assert.NoError(t, q.TryJoin())
	assert.NoError(t, done.TryWait())
	assert.NoError(t, done.WaitTimeout(0), "a set flag: the one attempt succeeds")
	v, err := procs.Result[int](waitFor(t, p))
	require.NoError(t, err)
	assert.Equal(t, 7, v)
}

func TestTimeoutZeroTriesOnce(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	mu, err := NewMutex(m)
	require.NoError(t, err)
	require.NoError(t, mu.LockTimeout(0), "free: the one attempt takes it")
	err = mu.LockTimeout(0)
	assert.ErrorIs(t, err, ErrWouldBlock)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, mu.TryLock(), ErrWouldBlock)
	assert.NotErrorIs(t, mu.TryLock(), ErrTimeout, "a Try form does not time out")

	s, err := NewSemaphore(m, 0)
	require.NoError(t, err)
	err = s.AcquireTimeout(0)
	assert.ErrorIs(t, err, ErrWouldBlock)
	assert.ErrorIs(t, err, ErrTimeout)

	q, err := NewQueue[int](m, 1)
	require.NoError(t, err)
	_, err = q.GetTimeout(0)
	assert.ErrorIs(t, err, ErrEmpty)
	assert.ErrorIs(t, err, ErrTimeout)
	require.NoError(t, q.PutTimeout(1, 0))
	err = q.PutTimeout(2, 0)
	assert.ErrorIs(t, err, ErrFull)
	assert.ErrorIs(t, err, ErrTimeout)
	v, err := q.GetTimeout(0)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
}

func TestConditionWaitForForms(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	cv, err := NewCondition(m, nil)
	require.NoError(t, err)
	require.NoError(t, cv.Lock())
	never := func() bool { return false }
	assert.ErrorIs(t, cv.WaitForTimeout(10*time.Millisecond, never), ErrTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, cv.WaitForContext(ctx, never), context.Canceled)
	calls := 0
	assert.NoError(t, cv.WaitForTimeout(time.Hour, func() bool { calls++; return true }))
	assert.Equal(t, 1, calls, "a true predicate: no wait at all")
	require.NoError(t, cv.Unlock(), "every form gave the lock back")

	// A notifier on another connection ends WaitFor's wait.
	other := decodeAs[Condition](t, cv)
	defer other.Detach()
	flag, err := NewValue(m, 0)
	require.NoError(t, err)
	require.NoError(t, cv.Lock())
	go func() {
		if other.Lock() == nil {
			_ = flag.Set(1)
			_ = other.NotifyAll()
			_ = other.Unlock()
		}
	}()
	assert.NoError(t, cv.WaitForTimeout(testutil.Patience, func() bool {
		v, err := flag.Get()
		return err == nil && v == 1
	}))
	require.NoError(t, cv.Unlock())
}
