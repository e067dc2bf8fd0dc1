package ringqueue_test

import (
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cross-process tests of Joinable (helpers in typed_procs_test.go).

type tpJoinArg struct {
	Q *ringqueue.Joinable[int64]
	// Progress names a KindBytes object whose first word the child sets.
	Progress string
}

var (
	// tpJoinWorker gets until a negative value, marking each other value
	// done, and returns the sum (CPython's _test_task_done).
	tpJoinWorker = procs.Register("ringqueue-typed-join-worker", func(a tpJoinArg) (int64, error) {
		defer a.Q.Detach()
		var sum int64
		for {
			v, err := a.Q.Get()
			if err != nil {
				return sum, err
			}
			if v < 0 {
				return sum, nil
			}
			sum += v
			if err := a.Q.TaskDone(); err != nil {
				return sum, err
			}
		}
	})

	tpJoiner = procs.Register("ringqueue-typed-joiner", func(a tpJoinArg) (string, error) {
		defer a.Q.Detach()
		if err := a.Q.JoinTimeout(60 * time.Second); err != nil {
			return err.Error(), nil
		}
		return "joined", nil
	})

	// tpDieAfterGet gets one value, publishes it (+1) in the progress word
	// and SIGKILLs itself before TaskDone.
	tpDieAfterGet = procs.Register("ringqueue-typed-die-after-get", func(a tpJoinArg) (int, error) {
		v, err := a.Q.Get()
		if err != nil {
			return 0, err
		}
		obj, err := a.Q.Segment().Lookup(a.Progress)
		if err != nil {
			return 0, err
		}
		atomic.StoreUint64(obj.Uint64(0), uint64(v)+1)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		waitToBeKilled()
		return 0, nil
	})
)

// CPython _TestQueue.test_task_done: worker processes get and mark done;
// join returns once every task is done; sentinels stop the workers.
func TestJoinableJoinReturnsAfterWorkerProcessesMarkEveryTaskDone(t *testing.T) {
	const workers, items = 3, 300
	seg := newSeg(t, 1<<20)
	j, err := ringqueue.NewJoinable[int64](seg, "tasks", ringqueue.Options{Capacity: 16})
	require.NoError(t, err)
	var ps []*procs.Process
	for range workers {
		ps = append(ps, tpStart(t, tpJoinWorker, tpJoinArg{Q: j}))
	}
	for i := 1; i <= items; i++ {
		require.NoError(t, j.Put(int64(i)))
	}
	require.NoError(t, j.JoinTimeout(60*time.Second))
	assert.Equal(t, 0, j.Unfinished())
	for range workers {
		require.NoError(t, j.Put(-1))
	}
	var sum int64
	for _, p := range ps {
		require.NoError(t, p.JoinTimeout(60*time.Second))
		s, err := procs.Result[int64](p)
		require.NoError(t, err)
		sum += s
	}
	assert.Equal(t, int64(items*(items+1)/2), sum)
}

func TestJoinableJoinInChildWaitsForParentsTaskDone(t *testing.T) {
	seg := newSeg(t, 1<<20)
	j, err := ringqueue.NewJoinable[int64](seg, "tasks", ringqueue.Options{Capacity: 4})
	require.NoError(t, err)
	require.NoError(t, j.Put(1))
	require.NoError(t, j.Put(2))
	p := tpStart(t, tpJoiner, tpJoinArg{Q: j})
	for range 2 {
		_, err := j.Get()
		require.NoError(t, err)
		require.NoError(t, j.TaskDone())
	}
	require.NoError(t, p.JoinTimeout(60*time.Second))
	r, err := procs.Result[string](p)
	require.NoError(t, err)
	assert.Equal(t, "joined", r)
}

// A consumer killed between Get and TaskDone leaves the count high: Join
// times out, Unfinished shows the lost task, and TaskDoneN recovers.
func TestJoinableConsumerKilledBeforeTaskDoneLeavesJoinWaiting(t *testing.T) {
	seg := newSeg(t, 1<<20)
	j, err := ringqueue.NewJoinable[int64](seg, "tasks", ringqueue.Options{Capacity: 4})
	require.NoError(t, err)
	prog, err := seg.Create(shm.Spec{Name: "progress", Kind: shm.KindBytes, Size: 64}, nil)
	require.NoError(t, err)
	require.NoError(t, j.Put(41))
	p := tpStart(t, tpDieAfterGet, tpJoinArg{Q: j, Progress: "progress"})
	err = p.JoinTimeout(60 * time.Second)
	var ee *procs.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, -int(syscall.SIGKILL), ee.Code)
	assert.Equal(t, uint64(42), atomic.LoadUint64(prog.Uint64(0)), "the child got the task")

	assert.Equal(t, 0, j.Len())
	assert.Equal(t, 1, j.Unfinished())
	assert.ErrorIs(t, j.JoinTimeout(20*time.Millisecond), ringqueue.ErrTimeout)
	require.NoError(t, j.TaskDoneN(j.Unfinished()-j.Len()))
	require.NoError(t, j.Join())
}
