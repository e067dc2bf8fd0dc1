package ringqueue

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/multiproc-go/multiproc/shm"
)

// QueueState is what a queue's shared memory says about it right now,
// read without taking part in the queue (for tools such as shmctl).
type QueueState struct {
	Mode     Mode
	Capacity int
	SlotSize int
	Len      int // messages queued (or being written or read), clamped to 0..Capacity
	Head     uint64
	Tail     uint64 // without SPSC's closed bit
	Closed   bool

	ProducersWaiting int // producers counted asleep on the futex gate
	ConsumersWaiting int // consumers counted asleep

	// Claims counts MPMC slots claimed right now (being written or read);
	// a claim that stays while its claimant is dead will be reclaimed by
	// the next waiter it holds up.
	Claims int
	// Reclaimed counts MPMC claims of dead participants reclaimed so far.
	Reclaimed uint64

	ProducerRole, ConsumerRole uint64 // SPSC role holders' IDs, 0 if none
}

// Inspect reads a queue object's state: obj is a KindQueue or
// KindJoinableQueue object of a segment's directory (shm.Segment.Objects
// or Lookup). It validates the header as Open does and writes nothing.
func Inspect(obj shm.Object) (QueueState, error) {
	if obj.Kind != shm.KindQueue && obj.Kind != shm.KindJoinableQueue {
		return QueueState{}, fmt.Errorf("ringqueue %q: inspect: %w: it is a %s", obj.Name, shm.ErrKindMismatch, obj.Kind)
	}
	g, err := validateObject(obj)
	if err != nil {
		return QueueState{}, fmt.Errorf("ringqueue %q: inspect: %w", obj.Name, err)
	}
	lay := (*layout)(obj.Pointer(0))
	head := atomic.LoadUint64(&lay.Head.Index)
	tail := atomic.LoadUint64(&lay.Tail.Index)
	st := QueueState{
		Mode:             g.mode,
		Capacity:         int(g.capacity),
		SlotSize:         g.slotSize,
		Head:             head,
		Tail:             tail &^ closedBitOf(g.mode),
		Closed:           atomic.LoadUint32(&lay.Hdr.Closed) != 0,
		ProducersWaiting: sleepersCount(atomic.LoadUint32(&lay.Wait.PutSleepers)),
		ConsumersWaiting: sleepersCount(atomic.LoadUint32(&lay.Wait.GetSleepers)),
		Reclaimed:        atomic.LoadUint64(&lay.Wait.Reclaimed),
	}
	st.Len = int(min(max(int64(st.Tail-head), 0), int64(g.capacity)))
	if g.mode == SPSC {
		st.ProducerRole = atomic.LoadUint64(&lay.Tail.Role)
		st.ConsumerRole = atomic.LoadUint64(&lay.Head.Role)
		return st, nil
	}
	slots := obj.Pointer(slotsOff)
	for i := uint64(0); i < g.capacity; i++ {
		c := atomic.LoadUint64(slotCtrl(unsafe.Add(slots, i*g.stride)))
		if s := ctrlState(c); s == stateWriting || s == stateReading {
			st.Claims++
		}
	}
	return st, nil
}

func closedBitOf(m Mode) uint64 {
	if m == SPSC {
		return spscClosedBit
	}
	return 0
}
