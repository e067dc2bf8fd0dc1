package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

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
// Every counter sits on its own cache line so that children counting in
// never disturb a line somebody else waits on. Beside each counter is a
// futex.Gate (a seq futex word and a sleepers word): a counter is moved
// with an atomic add and then the gate is signalled, which wakes only when
// somebody sleeps; a waiter waits with futex.Gate.Await, the module's one
// waiter, so a wake-up cannot be lost (see internal/futex).
//
// Object layout (a shm.KindBytes object of gateSize bytes), each line:
//
//	+0  counter   u32
//	+4  seq       u32  the gate's futex word
//	+8  sleepers  u32  the gate's sleepers word (epoch | count)
//
// at 0 ready (children that are set up and waiting for start), 64 start
// (0 until the parent opens the run), 128 done (participants that
// finished their part) and 192 mark (a free counter, e.g. Scale:
// producers that finished).
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

// counterGate returns the gate beside counter w (see the layout). Its
// count of wakes that found nobody is per call: a gate is signalled a
// handful of times per run, too few for a repair ever to be due, and a
// benchmark's children that die fail the run anyway.
func counterGate(w *uint32) futex.Gate {
	return futex.NewGate((*uint32)(unsafe.Add(unsafe.Pointer(w), 4)), (*uint32)(unsafe.Add(unsafe.Pointer(w), 8)),
		new(atomic.Uint32))
}

// arrive counts one in on w and wakes whoever waits for w to move.
func arrive(w *uint32) {
	atomic.AddUint32(w, 1)
	counterGate(w).SignalAll()
}

// await waits until *w >= n. check, if not nil, is asked between sleeps
// (every gatePoll) whether to give up (e.g. a child exited early); its
// error is returned.
func await(w *uint32, n uint32, check func() error) error {
	var cerr error
	err := counterGate(w).Await(futex.Within(gateLimit), futex.Waiter{
		Policy: futex.Park, // a gate waits for processes to start or finish, not for a hand-off
		Ready:  func() bool { return cerr != nil || atomic.LoadUint32(w) >= n },
		Check: func() (bool, time.Duration) {
			if check != nil {
				if cerr = check(); cerr != nil {
					return true, 0
				}
			}
			return false, gatePoll
		},
	})
	switch {
	case cerr != nil:
		return cerr
	case errors.Is(err, context.DeadlineExceeded): // the bound's ErrTimeout matches it
		return fmt.Errorf("%w: %d of %d after %v", errGateTimeout, atomic.LoadUint32(w), n, gateLimit)
	case err != nil:
		return fmt.Errorf("bench: gate wait: %w", err)
	}
	return nil
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
