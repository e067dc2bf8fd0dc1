package distpool_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/require"
)

// killHost kills the process running this task's worker: its host.
var killHost = procs.Register("dp-kill-host", func(int) (int, error) {
	_ = syscall.Kill(os.Getppid(), syscall.SIGKILL)
	testutil.BlockForever() // dies with its host
	return 0, nil
})

func files(dir string) int {
	es, _ := os.ReadDir(dir)
	return len(es)
}

func TestHostKilledMidTaskFailsItsTasksWithErrWorkerLost(t *testing.T) {
	const ackWait = 2 * time.Second
	p := newPool(t, "lost", distpool.WithAckWait(ackWait))
	dir := t.TempDir()
	a := startHost(t, "lost", "a", 2)
	waitSize(t, p, 2)
	blocked := []*procs.AsyncResult[int]{procs.ApplyAsync(p, block, dir), procs.ApplyAsync(p, block, dir)}
	testutil.WaitChild(t, a, func() bool { return files(dir) == 2 }) // both run on a
	items := make([]int, 40)
	for i := range items {
		items[i] = i
	}
	rest := procs.MapAsync(p, square, items, 1) // queued: a has no idle worker
	require.NoError(t, a.Kill())
	var exit *procs.ExitError
	require.ErrorAs(t, a.JoinTimeout(testutil.Patience), &exit)
	require.Equal(t, -9, exit.Code)
	killed := time.Now()
	startHost(t, "lost", "b", 2)

	for _, r := range blocked {
		_, err := r.GetTimeout(testutil.Patience)
		errorIs(t, err, distpool.ErrWorkerLost)
		// The last heartbeat came before the kill: AckWait bounds the
		// wait, plus the server's redelivery check and a loaded machine.
		require.Less(t, time.Since(killed), ackWait+10*time.Second)
	}
	got, err := rest.GetTimeout(testutil.Patience)
	require.NoError(t, err)
	for i, v := range got {
		require.Equal(t, i*i, v)
	}
	require.Equal(t, 2, files(dir), "a lost task ran again")
}

func TestPoisonTaskIsBoundedAndTakesNoInnocentTask(t *testing.T) {
	const ackWait = 2 * time.Second
	// One retry: the poison is delivered twice, so it can kill two hosts,
	// no more; each host has one worker and fetches one task at a time,
	// so no innocent task is lost with a host.
	p := newPool(t, "poison", distpool.WithAckWait(ackWait), distpool.WithRetries(1))
	hosts := []*procs.Process{startHost(t, "poison", "x", 1), startHost(t, "poison", "y", 1), startHost(t, "poison", "z", 1)}
	waitSize(t, p, 3)
	poison := procs.ApplyAsync(p, killHost, 0)
	items := make([]int, 60)
	for i := range items {
		items[i] = i
	}
	got, err := procs.Map(p, square, items, 1)
	require.NoError(t, err)
	for i, v := range got {
		require.Equal(t, i*i, v)
	}
	_, err = poison.GetTimeout(testutil.Patience)
	errorIs(t, err, distpool.ErrWorkerLost)
	require.Contains(t, err.Error(), "after delivery 2")
	alive := func() int {
		n := 0
		for _, h := range hosts {
			if h.IsAlive() {
				n++
			}
		}
		return n
	}
	// Both deliveries killed their host before AckWait ran out; the reaping
	// of the second may trail the advisory.
	testutil.WaitUntil(t, func() bool { return alive() <= 1 }, "two hosts killed")
	require.Equal(t, 1, alive(), "the poison killed one host per delivery")
}

func TestRepublishedTaskRunsOnce(t *testing.T) {
	p := newPool(t, "republish")
	startHost(t, "republish", "a", 1)
	waitSize(t, p, 1)
	path := filepath.Join(t.TempDir(), "runs")
	distpool.SetDuplicatePublish(true)
	before := distpool.DuplicatesDropped()
	_, err := procs.Map(p, record, []string{path, path, path, path, path}, 1)
	distpool.SetDuplicatePublish(false)
	require.NoError(t, err)
	require.Equal(t, int64(5), distpool.DuplicatesDropped()-before)
	// A task published after them runs after any copy left in the queue
	// (one host, one worker, a FIFO stream).
	_, err = procs.Apply(p, record, path+".after")
	require.NoError(t, err)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 5, strings.Count(string(b), "ran\n"))
}

func TestHeartbeatsLetATaskOutlastAckWait(t *testing.T) {
	// Heartbeats go every AckWait/4: a loaded machine may delay a few.
	p := newPool(t, "heartbeat", distpool.WithAckWait(2*time.Second))
	startHost(t, "heartbeat", "a", 1)
	waitSize(t, p, 1)
	v, err := procs.Apply(p, sleep, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, 1, v)
}

// With retries, a host lost after publishing a result but before acking
// its task makes the task run again elsewhere: the second result is a
// duplicate the results stream drops (same task id), and the caller sees
// the first, once.
func TestSecondResultOfARetriedTaskIsDropped(t *testing.T) {
	const ackWait = 2 * time.Second
	p := newPool(t, "dedup", distpool.WithAckWait(ackWait), distpool.WithRetries(1))
	a := testutil.Start(t, hostMain, hostArg{URL: srv.URL(), Token: srv.Token(), Queue: "dedup", Name: "a", Slots: 1, DieAfterAnswer: true})
	waitSize(t, p, 1)
	path := filepath.Join(t.TempDir(), "runs")
	var results atomic.Int32
	_, err := procs.ApplyAsync(p, record, path, procs.OnResult(func(int) { results.Add(1) })).GetTimeout(testutil.Patience)
	require.NoError(t, err)
	<-a.Done() // it died before acking: the task goes back to the queue after AckWait

	startHost(t, "dedup", "b", 1)
	runs := func() int {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), "ran\n")
	}
	testutil.WaitUntil(t, func() bool { return runs() == 2 }, "the task ran again on b")
	// b acks once its result is stored (or dropped as a duplicate).
	testutil.WaitUntil(t, func() bool { return len(stored(t, "DISTPOOL_TASKS", "distpool.task.dedup.>")) == 0 }, "task acked")
	require.Equal(t, map[string]uint64{p.ResultSubject(): 1}, stored(t, "DISTPOOL_RESULTS", p.ResultSubject()),
		"the second result was stored")
	require.Equal(t, int32(1), results.Load(), "the callback ran once")
}
