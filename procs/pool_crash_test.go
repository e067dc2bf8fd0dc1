package procs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	// dieOn kills its own worker when given -1 (SIGKILL), -2 (os.Exit(3))
	// or -3 (a crash of the Go runtime: an unrecovered panic on another
	// goroutine, exit code 2); other numbers pass through.
	dieOn = procs.Register("pool-die-on", func(x int) (int, error) {
		switch x {
		case -1:
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			testutil.BlockForever() // the signal is on its way
		case -2:
			os.Exit(3)
		case -3:
			go func() { panic("crash on another goroutine") }()
			time.Sleep(time.Hour)
		}
		return x, nil
	})

	// announceAndBlock stores its pid in the named segment's "pid" word,
	// wakes the test, and blocks until killed.
	announceAndBlock = procs.Register("pool-announce-block", func(segName string) (int, error) {
		seg, err := shm.Open(segName)
		if err != nil {
			return 0, err
		}
		obj, err := seg.Lookup("pid")
		if err != nil {
			return 0, err
		}
		atomic.StoreUint32(obj.Uint32(0), uint32(os.Getpid()))
		_, _ = futex.Wake(obj.Uint32(0), 1)
		time.Sleep(time.Hour)
		return 0, nil
	})

	// spin busies its worker for about d, so that kills land mid-task.
	spin = procs.Register("pool-spin", func(d time.Duration) (time.Duration, error) {
		end := time.Now().Add(d)
		for time.Now().Before(end) {
		}
		return d, nil
	})
)

func TestPoolWorkerKilledMidTaskFailsOnlyThatTask(t *testing.T) {
	p := newPool(t, 2)
	items := ints(40)
	items[5] = -1
	out, err := procs.Map(p, dieOn, items, 1)
	var te *procs.TaskError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, procs.ErrWorkerDied)
	assert.True(t, te.Died)
	assert.Equal(t, -9, te.ExitCode)
	assert.Contains(t, err.Error(), "killed by signal killed (exit code -9)")
	for i, v := range out {
		if i != 5 {
			assert.Equal(t, i, v, "item %d: the dead worker's queued tasks ran elsewhere", i)
		}
	}
	out, err = procs.Map(p, double, ints(100), 1)
	require.NoError(t, err, "the pool keeps serving")
	assert.Equal(t, 198, out[99])
}

func TestPoolWorkerExitingMidTaskNamesItsExitCode(t *testing.T) {
	// One worker: every task after a death needs the replacement. The
	// crash's stack would go to stderr: keep the test output clean.
	p := newPool(t, 1, procs.WithWorkerOptions(procs.WithStderr(io.Discard)))
	for _, c := range []struct {
		arg  int
		code int
	}{{-2, 3}, {-3, 2}} {
		_, err := procs.Apply(p, dieOn, c.arg)
		var te *procs.TaskError
		require.ErrorAs(t, err, &te, "arg %d", c.arg)
		assert.True(t, te.Died)
		assert.Equal(t, c.code, te.ExitCode)
		assert.Contains(t, err.Error(), fmt.Sprintf("exit code %d", c.code))
		r, err := procs.Apply(p, dieOn, 7)
		require.NoError(t, err)
		assert.Equal(t, 7, r)
	}
}

func TestPoolWorkerKilledFromOutsideWhileBlocked(t *testing.T) {
	name := testutil.Name(t)
	seg, err := shm.Create(name, 4096)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Detach(); _ = shm.Unlink(name) })
	obj, err := seg.Create(shm.Spec{Name: "pid", Kind: shm.KindBytes, Size: 64}, nil)
	require.NoError(t, err)
	word := obj.Uint32(0)

	p := newPool(t, 2)
	r := procs.ApplyAsync(p, announceAndBlock, name)
	deadline := time.Now().Add(30 * time.Second)
	for atomic.LoadUint32(word) == 0 {
		require.True(t, time.Now().Before(deadline), "the task never started")
		_ = futex.Wait(word, 0, time.Second)
	}
	victim := int(atomic.LoadUint32(word))
	var killed bool
	for _, w := range p.Processes() {
		if w.Pid() == victim {
			require.NoError(t, w.Kill())
			killed = true
		}
	}
	require.True(t, killed, "worker %d not among the pool's processes", victim)
	_, err = r.GetTimeout(30 * time.Second)
	var te *procs.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, victim, te.Pid)
	assert.Equal(t, -9, te.ExitCode)
	out, err := procs.Map(p, double, ints(10), 1)
	require.NoError(t, err)
	assert.Len(t, out, 10)
}

// Workers are killed again and again while a stream of tasks runs: every
// item comes back exactly once, failed only by a death, and nothing hangs.
func TestPoolRepeatedKillsLoseAndDuplicateNothing(t *testing.T) {
	p := newPool(t, 2)
	const n = 600
	items := make([]time.Duration, n)
	for i := range items {
		items[i] = time.Duration(200+i%300) * time.Microsecond
	}
	kills, died, ok := 0, 0, 0
	seen := 0
	for r, err := range procs.ImapUnordered(p, spin, slices.Values(items), 1) {
		seen++
		switch {
		case err == nil:
			require.Positive(t, r)
			ok++
		case errors.Is(err, procs.ErrWorkerDied):
			died++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
		if seen%40 == 0 {
			if ws := p.Processes(); len(ws) > 0 {
				_ = ws[seen%len(ws)].Kill()
				kills++
			}
		}
	}
	assert.Equal(t, n, seen)
	assert.Equal(t, n, ok+died)
	assert.LessOrEqual(t, died, kills, "a kill fails at most the one task its worker ran")
	t.Logf("%d kills, %d tasks died with their worker", kills, died)
}

func TestPoolTerminateLeavesNoChildAndNoSegment(t *testing.T) {
	before := shmFiles(t)
	p, err := procs.NewPool(3)
	require.NoError(t, err)
	_, err = procs.Map(p, double, ints(100), 1)
	require.NoError(t, err)
	ws := p.Processes()
	require.NoError(t, p.Terminate())
	for _, w := range ws {
		assert.False(t, w.IsAlive())
	}
	assert.Equal(t, before, shmFiles(t), "the pool's segment is anonymous: nothing in /dev/shm")
}

func shmFiles(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/dev/shm")
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "procs") {
			out = append(out, e.Name())
		}
	}
	return out
}

var echoBlob = procs.Register("pool-echo-blob", func(b []byte) ([]byte, error) {
	end := time.Now().Add(100 * time.Microsecond)
	for time.Now().Before(end) {
	}
	return b, nil
})

// The soak: many tasks, some spanning many slots each way, while workers
// are killed over and over. MULTIPROC_SOAK=1 go test ./procs -run Soak
func TestPoolSoakKillsDuringFragmentedTraffic(t *testing.T) {
	if os.Getenv("MULTIPROC_SOAK") == "" {
		t.Skip("set MULTIPROC_SOAK=1 to run the soak")
	}
	p := newPool(t, 3, procs.WithSlotSize(512), procs.WithQueueSizes(16, 32))
	const n = 20000
	items := make([][]byte, n)
	for i := range items {
		size := 8
		if i%10 == 0 {
			size = 5000 + i%3000 // ten slots or more each way
		}
		items[i] = bytes.Repeat([]byte{byte(i)}, size)
	}
	kills, died, seen := 0, 0, 0
	for r, err := range procs.Imap(p, echoBlob, slices.Values(items), 1) {
		switch {
		case err == nil:
			require.Equal(t, items[seen], r, "item %d", seen)
		case errors.Is(err, procs.ErrWorkerDied):
			died++
		default:
			t.Fatalf("item %d: unexpected error: %v", seen, err)
		}
		seen++
		if seen%97 == 0 {
			if ws := p.Processes(); len(ws) > 0 {
				_ = ws[seen%len(ws)].Kill()
				kills++
			}
		}
	}
	assert.Equal(t, n, seen)
	assert.LessOrEqual(t, died, kills)
	t.Logf("%d items, %d kills, %d tasks died with their worker", n, kills, died)
}
