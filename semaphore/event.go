package semaphore

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// An Event's 64 bytes (one cache line):
//
//	0  word      uint32: bit 0 the flag; bits 1..31 a generation counted
//	             up by every Set that raises the flag
//	4  sleepers  uint32: the gate's sleepers word (epoch | count)
//	8  seq       uint32: the gate's futex word (futex.Gate)
//
// Wait returns once the flag is set or the generation moved on since it
// looked: a waiter asleep across a Set followed at once by a Clear still
// returns, as Python's threading.Event promises ("all threads waiting for
// it to become true are awakened"). Zero memory is a clear event.
const (
	eventWordOff     = 0
	eventSleepersOff = 4
	eventSeqOff      = 8
	eventSize        = 64

	eventFlag    = 1
	eventGenStep = 2
)

// An Event is a flag shared by processes, Python's multiprocessing.Event:
// Set raises it and wakes every waiter, Clear lowers it, Wait waits for it.
// A *Event is a handle, safe for concurrent use; it crosses to a child
// process as a procs argument.
type Event struct {
	word *uint32
	gate futex.Gate
	name string
	seg  *shm.Segment

	shm.Attachment // what GobDecode attached; Detach releases it
}

// NewEvent creates a clear event named name in seg.
func NewEvent(seg *shm.Segment, name string) (*Event, error) {
	obj, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindEvent, Size: eventSize}, nil)
	if err != nil {
		return nil, fmt.Errorf("event %q: create: %w", name, err)
	}
	return eventAt(obj)
}

// OpenEvent opens the event named name in seg.
func OpenEvent(seg *shm.Segment, name string) (*Event, error) {
	obj, err := seg.OpenObject(name, shm.KindEvent, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("event %q: open: %w", name, err)
	}
	return eventAt(obj)
}

func eventAt(obj shm.Object) (*Event, error) {
	if obj.Size < eventSize {
		return nil, fmt.Errorf("event %q: open: %w: %d bytes", obj.Name, shm.ErrCorrupt, obj.Size)
	}
	return &Event{word: obj.Uint32(eventWordOff), gate: gateAt(obj, eventSeqOff, eventSleepersOff),
		name: obj.Name, seg: obj.Segment()}, nil
}

// Name returns the event's name.
func (e *Event) Name() string { return e.name }

// IsSet reports whether the flag is raised.
func (e *Event) IsSet() bool { return atomic.LoadUint32(e.word)&eventFlag != 0 }

// Set raises the flag and wakes every waiter. Setting a set event does
// nothing.
func (e *Event) Set() {
	for {
		w := atomic.LoadUint32(e.word)
		if w&eventFlag != 0 {
			return
		}
		if atomic.CompareAndSwapUint32(e.word, w, (w+eventGenStep)|eventFlag) {
			break
		}
	}
	e.gate.SignalAll()
}

// Clear lowers the flag.
func (e *Event) Clear() {
	for {
		w := atomic.LoadUint32(e.word)
		if w&eventFlag == 0 || atomic.CompareAndSwapUint32(e.word, w, w&^eventFlag) {
			return
		}
	}
}

// Wait waits until the flag is raised.
func (e *Event) Wait() error { return e.wait(futex.Block()) }

// TryWait returns nil if the flag is raised and ErrWouldBlock (wrapped)
// if not: IsSet as an error, the Try form of Wait, as Python's wait(0)
// returns the flag.
func (e *Event) TryWait() error { return e.wait(futex.NoWait()) }

// WaitContext is Wait that gives up when ctx ends, returning ctx.Err()
// (wrapped). A set event returns nil even if ctx is done.
func (e *Event) WaitContext(ctx context.Context) error { return e.wait(futex.WithContext(ctx)) }

// WaitTimeout is Wait that gives up after d, returning ErrTimeout
// (wrapped): Python's wait(timeout) returning False.
func (e *Event) WaitTimeout(d time.Duration) error { return e.wait(timeoutBound(d)) }

// wait is every Wait form.
func (e *Event) wait(b futex.Bound) error {
	w0 := atomic.LoadUint32(e.word)
	if w0&eventFlag != 0 {
		return nil
	}
	err := e.gate.Await(b, futex.Waiter{Policy: futex.Brief, Ready: func() bool {
		w := atomic.LoadUint32(e.word)
		// Raised now, or raised (and maybe cleared) since we first looked.
		return w&eventFlag != 0 || w&^eventFlag != w0&^eventFlag
	}})
	if err != nil {
		return waitErr("event", e.name, "wait", err)
	}
	return nil
}

// GobEncode encodes a handle on e for a child process.
func (e *Event) GobEncode() ([]byte, error) { return shm.EncodeRef(e.seg, e.name, 0) }

// GobDecode re-attaches a handle encoded by GobEncode.
func (e *Event) GobDecode(b []byte) error {
	return decode(&e.Attachment, b, shm.KindEvent, func(obj shm.Object) error {
		ne, err := eventAt(obj)
		if err == nil {
			*e = *ne
		}
		return err
	})
}

// EventState is a snapshot of an event.
type EventState struct {
	Set        bool
	Generation uint32 // how many times it was raised (mod 2^31)
	Sleepers   uint32 // processes counted asleep; may count killed ones until a repair
	Repairs    uint32 // how many times wakers repaired the count (mod 2^16)
}

// InspectEvent reads an event object without disturbing it.
func InspectEvent(obj shm.Object) (EventState, error) {
	if obj.Kind != shm.KindEvent || obj.Size < eventSize {
		return EventState{}, fmt.Errorf("semaphore: inspect %q: %w: it is a %s", obj.Name, shm.ErrKindMismatch, obj.Kind)
	}
	w := atomic.LoadUint32(obj.Uint32(eventWordOff))
	st := EventState{Set: w&eventFlag != 0, Generation: w >> 1}
	st.Sleepers, st.Repairs = sleepersState(obj.Uint32(eventSleepersOff))
	return st, nil
}
