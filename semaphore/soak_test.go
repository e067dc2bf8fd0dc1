package semaphore

import (
	"errors"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// Killing writers at random moments: the data a Mutex guards is two
// words that a writer updates one after the other, so a writer killed in
// between leaves them torn. Every locker checks: a lock that returns nil
// must find them equal; a lock that returns ErrOwnerDead may find them
// torn, repairs them and marks the mutex consistent. A violation is
// recorded in shared memory (a killed child cannot report).

type tornArg struct {
	Seg *shm.Segment
	Mu  *Mutex
}

// The "torn" object's words.
const (
	tornA         = 0  // uint64, written first
	tornB         = 8  // uint64, written second
	tornViolation = 16 // uint32, set when a locker sees torn data without ErrOwnerDead
	tornRepairs   = 20 // uint32, repairs after ErrOwnerDead
)

// lockedWrite does one guarded update, checking and repairing as above.
func lockedWrite(obj shm.Object, mu *Mutex) error {
	a, b := obj.Uint64(tornA), obj.Uint64(tornB)
	err := mu.Lock()
	switch {
	case errors.Is(err, ErrOwnerDead):
		atomic.StoreUint64(b, atomic.LoadUint64(a))
		atomic.AddUint32(obj.Uint32(tornRepairs), 1)
		if err := mu.MarkConsistent(); err != nil {
			return err
		}
	case err != nil:
		return err
	case atomic.LoadUint64(a) != atomic.LoadUint64(b):
		atomic.StoreUint32(obj.Uint32(tornViolation), 1)
	}
	atomic.AddUint64(a, 1)
	for i := 0; i < 200; i++ { // a window in which a kill tears the data
		_ = atomic.LoadUint64(a)
	}
	atomic.AddUint64(b, 1)
	return mu.Unlock()
}

var tornWriter = procs.Register("semaphore-torn-writer", func(a tornArg) (int, error) {
	obj, err := a.Seg.Lookup("torn")
	if err != nil {
		return 0, err
	}
	for {
		if err := lockedWrite(obj, a.Mu); err != nil {
			return 0, err
		}
	}
})

// tornBriefWriter does a few guarded updates and ends normally: its
// participant entry is given back, and the next process gets it.
var tornBriefWriter = procs.Register("semaphore-torn-brief-writer", func(a tornArg) (int, error) {
	obj, err := a.Seg.Lookup("torn")
	if err != nil {
		return 0, err
	}
	for range 20 {
		if err := lockedWrite(obj, a.Mu); err != nil {
			return 0, err
		}
	}
	return 20, nil
})

// killWritersAtRandom kills writers at random moments, with writers that
// end normally in between, on a participant table with room for just the
// live processes: the entries of the killed and of the ended are handed
// to the next ones, so a dead writer's lock must never pass for a live
// newcomer's.
func killWritersAtRandom(t *testing.T, kills int) {
	const writers = 3
	seg, err := shm.Anonymous(1<<20, shm.WithParticipants(1+writers+1))
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Detach() })
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	obj := rawObject(t, seg, "torn", 64)
	ps := make([]*procs.Process, writers)
	for i := range ps {
		ps[i] = testutil.Start(t, tornWriter, tornArg{Seg: seg, Mu: mu})
	}
	for range kills {
		// Let the writers make progress (synchronizing on the data, not on
		// time), then kill one at a random moment and replace it.
		from := atomic.LoadUint64(obj.Uint64(tornB))
		require.Eventually(t, func() bool { return atomic.LoadUint64(obj.Uint64(tornB)) > from+50 },
			joinWait, 100*time.Microsecond)
		i := rand.IntN(writers)
		killJoin(t, ps[i])
		n, err := procs.Run(tornBriefWriter, tornArg{Seg: seg, Mu: mu})
		require.NoError(t, err)
		require.Equal(t, 20, n)
		ps[i] = testutil.Start(t, tornWriter, tornArg{Seg: seg, Mu: mu})
	}
	for _, p := range ps {
		killJoin(t, p)
	}
	// The parent is a locker too: it repairs what the last kill tore.
	require.NoError(t, lockedWrite(obj, mu))
	require.Zero(t, atomic.LoadUint32(obj.Uint32(tornViolation)), "a locker saw torn data without ErrOwnerDead")
	require.Equal(t, atomic.LoadUint64(obj.Uint64(tornA)), atomic.LoadUint64(obj.Uint64(tornB)))
	t.Logf("%d kills, %d repairs after ErrOwnerDead, %d updates", kills,
		atomic.LoadUint32(obj.Uint32(tornRepairs)), atomic.LoadUint64(obj.Uint64(tornB)))
}

func TestCrossProcessKilledWritersNeverLeaveUnreportedTornData(t *testing.T) {
	killWritersAtRandom(t, 8)
}

// MULTIPROC_SOAK=1 go test -run Soak ./semaphore
func TestSoakMutexKilledWriters(t *testing.T) {
	if os.Getenv("MULTIPROC_SOAK") == "" {
		t.Skip("soak: set MULTIPROC_SOAK=1")
	}
	killWritersAtRandom(t, 300)
}
