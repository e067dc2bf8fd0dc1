package manager

import (
	"errors"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// churnJob: a child that hammers every kind of call until it is killed.
type churnJob struct {
	ID      int
	Q       *Queue[int]
	D       *Dict[int, int]
	L       *Mutex
	Started *Semaphore
}

var churn = procs.Register("manager.test.churn", func(j churnJob) (struct{}, error) {
	for i := 0; ; i++ {
		if err := j.D.Set(j.ID*1_000_000+i%100, i); err != nil {
			return struct{}{}, err
		}
		if err := j.Q.Put(i); err != nil {
			return struct{}{}, err
		}
		if _, err := j.Q.GetTimeout(time.Millisecond); err != nil && !isTimeout(err) {
			return struct{}{}, err
		}
		if err := j.L.Lock(); !Acquired(err) {
			return struct{}{}, err
		}
		_, _ = j.D.Pop(-1)
		if err := j.L.Unlock(); err != nil {
			return struct{}{}, err
		}
		if i == 10 {
			_ = j.Started.Release()
		}
	}
})

func isTimeout(err error) bool { return errors.Is(err, ErrTimeout) || errors.Is(err, ErrEmpty) }

// TestRandomlyKilledClientsLeaveAWorkingServer kills busy children at
// random points of their calls, round after round, and checks that the
// server keeps serving, every lock is takeable, and nothing leaks.
// MULTIPROC_SOAK=1 runs 50 rounds instead of 3.
func TestRandomlyKilledClientsLeaveAWorkingServer(t *testing.T) {
	rounds := 3
	if os.Getenv("MULTIPROC_SOAK") != "" {
		rounds = 50
	}
	noChildren(t)
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	q, err := NewQueue[int](m, 64)
	require.NoError(t, err)
	d, err := NewDict[int, int](m)
	require.NoError(t, err)
	l, err := NewMutex(m)
	require.NoError(t, err)
	started, err := NewSemaphore(m, 0)
	require.NoError(t, err)
	base := ts.Stats()
	for round := range rounds {
		var ps []*procs.Process
		for id := range 3 {
			p, err := procs.Start(churn, churnJob{ID: id, Q: q, D: d, L: l, Started: started})
			require.NoError(t, err)
			ps = append(ps, p)
		}
		for range ps {
			require.NoError(t, started.AcquireTimeout(60*time.Second), "round %d", round)
		}
		for _, p := range ps {
			// The delay only scatters where each child dies; nothing waits on it.
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
			require.NoError(t, p.Kill())
		}
		for _, p := range ps {
			err := p.JoinTimeout(60 * time.Second)
			var ee *procs.ExitError
			require.ErrorAs(t, err, &ee, "round %d: the child must have been killed, not failed", round)
			require.Equal(t, -9, ee.Code, "round %d: %v", round, err)
		}
		eventually(t, "the dead clients' connections to go", func() bool { return ts.Stats().Conns == base.Conns })

		err := l.LockTimeout(60 * time.Second)
		require.True(t, Acquired(err), "round %d: the lock must be takeable: %v", round, err)
		require.NoError(t, l.Unlock())
		for { // drain
			if _, err := q.TryGet(); err != nil {
				require.ErrorIs(t, err, ErrEmpty)
				break
			}
		}
		require.NoError(t, q.PutTimeout(1, 60*time.Second))
		v, err := q.TryGet()
		require.NoError(t, err)
		assert.Equal(t, 1, v)
	}
	st := ts.Stats()
	assert.Equal(t, base.Objects, st.Objects, "the children's references are all gone")
	assert.Zero(t, st.Transit)
}
