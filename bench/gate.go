package bench

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// A gate coordinates one timed run between the benchmark's process and the
// child processes taking part, through words in shared memory rather than
// sleeps:
//
//	child:   ready++ → wait until start != 0 → work → (mark++) → done++
//	parent:  wait until ready == kids → StartTimer → start = 1 → own part →
//	         wait until done == want → StopTimer
//
// Every word sits on its own cache line so that children counting in never
// disturb a line somebody spins or sleeps on. A counter is moved with an
// atomic add and then every sleeper on it is woken (FUTEX_WAKE on a shared
// mapping); a waiter re-reads the word before each futex wait, and the kernel
// compares the word again under its own lock, so a wake-up cannot be lost
// (see internal/futex). Waking costs a system call, but a gate is touched a
// handful of times per run, outside the per-message path.
//
// Object layout (a shm.KindBytes object of gateSize bytes):
//
//	  0  ready  u32  children that are set up and waiting for start
//	 64  start  u32  0 until the parent opens the run
//	128  done   u32  participants that finished their part
//	192  mark   u32  free counter (e.g. Scale: producers that finished)
type gate struct {
	ready, start, done, mark *uint32
}

const (
	gateReadyOff = 0
	gateStartOff = 64
	gateDoneOff  = 128
	gateMarkOff  = 192
	gateSize     = 256
)

// gatePoll bounds each futex sleep of a waiter that also watches for a child
// that died: a dead child never counts in, so the waiter must look.
const gatePoll = 20 * time.Millisecond

// gateLimit is the safety net of every wait: far beyond any benchmark round,
// it turns a wedged run into an error instead of a hung `go test`.
const gateLimit = 10 * time.Minute

// errGateTimeout: a gate wait passed gateLimit.
var errGateTimeout = errors.New("bench: gate wait timed out")

// newGate creates a gate object named name in seg.
func newGate(seg *shm.Segment, name string) (gate, error) {
	obj, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindBytes, Size: gateSize}, nil)
	if err != nil {
		return gate{}, fmt.Errorf("bench: gate %q: %w", name, err)
	}
	return gateOf(obj)
}

// openGate opens the gate named name in seg (in a child).
func openGate(seg *shm.Segment, name string) (gate, error) {
	obj, err := seg.OpenObject(name, shm.KindBytes, 0, 0)
	if err != nil {
		return gate{}, fmt.Errorf("bench: gate %q: %w", name, err)
	}
	return gateOf(obj)
}

func gateOf(obj shm.Object) (gate, error) {
	if obj.Size < gateSize {
		return gate{}, fmt.Errorf("bench: gate %q: %d bytes, want %d: %w", obj.Name, obj.Size, gateSize, shm.ErrCorrupt)
	}
	return gate{
		ready: obj.Uint32(gateReadyOff),
		start: obj.Uint32(gateStartOff),
		done:  obj.Uint32(gateDoneOff),
		mark:  obj.Uint32(gateMarkOff),
	}, nil
}

// arrive counts one in on w and wakes whoever waits for w to move.
func arrive(w *uint32) {
	atomic.AddUint32(w, 1)
	_, _ = futex.WakeAll(w)
}

// await waits until *w >= n. check, if not nil, is asked between sleeps
// whether to give up (e.g. a child exited early); its error is returned.
func await(w *uint32, n uint32, check func() error) error {
	deadline := time.Now().Add(gateLimit)
	for {
		v := atomic.LoadUint32(w)
		if v >= n {
			return nil
		}
		if check != nil {
			if err := check(); err != nil {
				return err
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d of %d after %v", errGateTimeout, v, n, gateLimit)
		}
		// Sleeps only while the word still reads v; a wake, a timeout or a
		// spurious return all lead back to the re-check above.
		if err := futex.Wait(w, v, gatePoll); err != nil && !errors.Is(err, futex.ErrTimeout) {
			return fmt.Errorf("bench: gate wait: %w", err)
		}
	}
}

// Child side.

// childReady says this child is set up.
func (g gate) childReady() { arrive(g.ready) }

// waitStart waits for the parent to open the run.
func (g gate) waitStart() error { return await(g.start, 1, nil) }

// childDone says this child finished its part.
func (g gate) childDone() { arrive(g.done) }

// Parent side.

// waitReady waits until n children are ready.
func (g gate) waitReady(n int, check func() error) error { return await(g.ready, uint32(n), check) }

// open starts the run for every waiting child.
func (g gate) open() { arrive(g.start) }

// waitDone waits until n participants are done.
func (g gate) waitDone(n int, check func() error) error { return await(g.done, uint32(n), check) }
