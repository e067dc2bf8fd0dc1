package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testutil.Main(m) }

func exists(name string) bool {
	_, err := os.Lstat(filepath.Join(shm.Dir, name))
	return err == nil
}

// shmctl runs a command line in-process and returns its exit code and output.
func shmctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// shmctlJSON runs a command with --json and decodes its output into v.
func shmctlJSON(t *testing.T, v any, args ...string) int {
	t.Helper()
	code, out, errOut := shmctl(t, append(args, "--json")...)
	require.NoError(t, json.Unmarshal([]byte(out), v), "stdout %q, stderr %q", out, errOut)
	return code
}

// Children. Readiness crosses through events in an anonymous control
// segment, never through sleeps.

// populateArgs names the segment to create and the event to raise once
// it is populated and its mutex is held.
type populateArgs struct {
	Name  string
	Ready *semaphore.Event
}

// populate creates a segment holding one object of every kind, leaves the
// mutex locked, messages in a queue, the event set, then blocks until
// killed: a program that crashed at the worst moment.
var populate = procs.Register("shmctl-test-populate", func(a populateArgs) (int, error) {
	seg, err := shm.Create(a.Name, 1<<20)
	if err != nil {
		return 0, err
	}
	if err := fillSegment(seg); err != nil {
		return 0, err
	}
	a.Ready.Set()
	testutil.BlockForever()
	return 0, nil
})

func fillSegment(seg *shm.Segment) error {
	mu, err := semaphore.NewMutex(seg, "lock")
	if err != nil {
		return err
	}
	if err := mu.Lock(); err != nil {
		return err
	}
	rl, err := semaphore.NewRLock(seg, "rlock")
	if err != nil {
		return err
	}
	o := semaphore.NewOwner()
	if err := rl.Lock(o); err != nil {
		return err
	}
	if err := rl.Lock(o); err != nil {
		return err
	}
	if _, err := semaphore.NewCondition(seg, "cond", rl); err != nil {
		return err
	}
	if _, err := semaphore.NewBoundedSemaphore(seg, "slots", 2); err != nil {
		return err
	}
	ev, err := semaphore.NewEvent(seg, "done")
	if err != nil {
		return err
	}
	ev.Set()
	if _, err := semaphore.NewBarrier(seg, "start", 3, nil); err != nil {
		return err
	}
	q, err := ringqueue.New(seg, "jobs", ringqueue.Options{Capacity: 8, SlotSize: 64})
	if err != nil {
		return err
	}
	for i := range 3 {
		if err := q.Put([]byte{byte(i)}); err != nil {
			return err
		}
	}
	if _, err := ringqueue.New(seg, "empty", ringqueue.Options{Capacity: 4, SlotSize: 16, Mode: ringqueue.SPSC}); err != nil {
		return err
	}
	if _, err := value.New[int64](seg, "counter", 42); err != nil {
		return err
	}
	if _, err := value.NewRaw[[4]int64](seg, "point", [4]int64{1, 2, 3, 4}); err != nil {
		return err
	}
	if _, err := array.New[float64](seg, "grid", 16); err != nil {
		return err
	}
	if _, err := array.NewRaw[uint32](seg, "flags", 5); err != nil {
		return err
	}
	_, err = seg.Create(shm.Spec{Name: "blob", Kind: shm.KindBytes, Size: 100}, nil)
	return err
}

// consume attaches to the segment and blocks getting from its empty queue
// until killed.
var consume = procs.Register("shmctl-test-consume", func(a populateArgs) (int, error) {
	seg, err := shm.Open(a.Name)
	if err != nil {
		return 0, err
	}
	q, err := ringqueue.Open(seg, "empty")
	if err != nil {
		return 0, err
	}
	a.Ready.Set()
	_, err = q.Get(make([]byte, 16))
	return 0, err
})

// createAndExit creates a segment with one object and exits cleanly: the
// creator is dead, no participant is left.
var createAndExit = procs.Register("shmctl-test-create-and-exit", func(name string) (int, error) {
	seg, err := shm.Create(name, 4096)
	if err != nil {
		return 0, err
	}
	defer seg.Detach()
	_, err = semaphore.NewMutex(seg, "lock")
	return 0, err
})

// mapAndBlock maps a segment read-only, without joining its participant
// table, and blocks until killed: a process only /proc/*/maps reveals.
var mapAndBlock = procs.Register("shmctl-test-map-and-block", func(a populateArgs) (int, error) {
	v, err := shm.OpenView(a.Name)
	if err != nil {
		return 0, err
	}
	defer v.Detach()
	a.Ready.Set()
	testutil.BlockForever()
	return 0, nil
})

// control returns a fresh event in an anonymous segment, for a child to
// say it is ready.
func control(t *testing.T) *semaphore.Event {
	t.Helper()
	seg, err := shm.Anonymous(4096)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Detach() })
	ev, err := semaphore.NewEvent(seg, "ready")
	require.NoError(t, err)
	return ev
}

// start starts a child, kills and reaps it when the test ends, and waits
// for it to raise its ready event (or to end early, which fails the test).
func start(t *testing.T, f *procs.Func[populateArgs, int], a populateArgs) *procs.Process {
	t.Helper()
	p := testutil.Start(t, f, a)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-p.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := a.Ready.WaitContext(ctx); err != nil {
		select {
		case <-p.Done():
			t.Fatalf("child ended before it was ready: %v", p.Join())
		default:
			t.Fatalf("child never became ready: %v", err)
		}
	}
	return p
}

func kill(t *testing.T, ps ...*procs.Process) {
	t.Helper()
	for _, p := range ps {
		require.NoError(t, p.Kill())
		_ = p.Join()
	}
}
