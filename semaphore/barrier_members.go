package semaphore

import (
	"fmt"
	"sync/atomic"

	"github.com/multiproc-go/multiproc/shm"
)

// Barrier membership (for detecting dead participants), handles and
// inspection. See barrier.go for the layout.

// A barMember is one entry of the members table. ID is claimed by CAS
// (0 → the member's ID) and given back by CAS; Arrival is written by the
// member only. A reader may pair an ID with the previous member's Arrival
// for an instant: that can only delay a liveness check, never make one
// report a live process dead.
type barMember struct {
	ID      uint64
	Arrival uint64 // generation | memberArrived of the latest arrival
}

// arrived records in members that this process arrived in round g.
func (b *Barrier) arrived(g uint32) {
	entry := uint64(g | memberArrived)
	if i := b.slot.Load(); i >= 0 && atomic.LoadUint64(&b.members[i].ID) == b.self {
		atomic.StoreUint64(&b.members[i].Arrival, entry)
		return
	}
	free := -1
	for i := range b.members {
		v := atomic.LoadUint64(&b.members[i].ID)
		if v == b.self {
			atomic.StoreUint64(&b.members[i].Arrival, entry)
			b.slot.Store(int32(i))
			return
		}
		if v == 0 && free < 0 {
			free = i
		}
	}
	for i := max(free, 0); free >= 0 && i < barMaxMembers; i++ {
		if atomic.CompareAndSwapUint64(&b.members[i].ID, 0, b.self) {
			atomic.StoreUint64(&b.members[i].Arrival, entry)
			b.slot.Store(int32(i))
			return
		}
	}
	// The table is full: this process is not watched (see the doc).
}

// missingDead looks for a member that has not arrived in round g and has
// died, or a dead process running the action; it forgets a dead member.
func (b *Barrier) missingDead(g, lo uint32) (bool, uint64) {
	if barCount(lo) >= b.parties {
		// The action phase. A runner that recorded this round is checked
		// by its ID; until it has, it is one of the members that have not
		// recorded this round's arrival, checked below.
		a := atomic.LoadUint64(b.actionBy)
		if id := a & (1<<shm.IDBits - 1); id != 0 && uint32(a>>actionRoundShift) == g&actionRoundMask {
			if id != b.self && !b.seg.Alive(id) {
				return true, id
			}
			return false, 0
		}
	}
	for i := range b.members {
		id := atomic.LoadUint64(&b.members[i].ID)
		if id == 0 || id == b.self || uint32(atomic.LoadUint64(&b.members[i].Arrival)) == g|memberArrived {
			continue
		}
		if !b.seg.Alive(id) {
			atomic.CompareAndSwapUint64(&b.members[i].ID, id, 0)
			return true, id
		}
	}
	return false, 0
}

// Leave removes this process from the barrier's members: its exit will no
// longer break a round. Call it when the process stops taking part.
func (b *Barrier) Leave() {
	for i := range b.members {
		if atomic.LoadUint64(&b.members[i].ID) == b.self {
			atomic.CompareAndSwapUint64(&b.members[i].ID, b.self, 0)
		}
	}
	b.slot.Store(-1)
}

// GobEncode encodes a handle on b for a child process (without its action).
func (b *Barrier) GobEncode() ([]byte, error) { return shm.EncodeRef(b.seg, b.name, 0) }

// GobDecode re-attaches a handle encoded by GobEncode; the handle has no
// action until SetAction. (Its Detach does not Leave.)
func (b *Barrier) GobDecode(data []byte) error {
	return decode(&b.Attachment, data, shm.KindBarrier, func(obj shm.Object) error {
		nb, err := barrierAt(obj, nil)
		if err != nil {
			return err
		}
		// Field by field: b holds atomics, which must not be copied over.
		b.state, b.word, b.sleepers, b.actionBy, b.cause, b.members = nb.state, nb.word, nb.sleepers, nb.actionBy, nb.cause, nb.members
		b.parties, b.self, b.name, b.seg = nb.parties, nb.self, nb.name, nb.seg
		b.slot.Store(-1)
		b.action.Store(nil)
		return nil
	})
}

// BarrierState is a snapshot of a barrier.
type BarrierState struct {
	Parties    uint32
	Arrived    uint32 // arrivals in the current round (Parties while the action runs)
	Broken     bool
	Generation uint32 // round number mod 2^16
	Sleepers   uint32 // processes counted asleep; may count killed ones until a repair
	Repairs    uint32 // how many times wakers repaired the count (mod 2^16)
	Members    []BarrierMember
}

// A BarrierMember is a process that has waited on a barrier.
type BarrierMember struct {
	ID      uint64
	Alive   bool
	Arrived bool // arrived in the current round
}

// InspectBarrier reads a barrier object without disturbing it.
func InspectBarrier(obj shm.Object) (BarrierState, error) {
	if obj.Kind != shm.KindBarrier || obj.Size < barSize {
		return BarrierState{}, fmt.Errorf("semaphore: inspect %q: %w: it is a %s", obj.Name, shm.ErrKindMismatch, obj.Kind)
	}
	lo := atomic.LoadUint32(lowHalf(obj.Uint64(barStateOff)))
	st := BarrierState{
		Parties:    atomic.LoadUint32(obj.Uint32(barPartiesOff)),
		Arrived:    barCount(lo),
		Broken:     lo&barBroken != 0,
		Generation: barGen(lo),
	}
	st.Sleepers, st.Repairs = sleepersState(obj.Uint32(barSleepersOff))
	for i := range barMaxMembers {
		id := atomic.LoadUint64(obj.Uint64(barMembersOff + uintptr(16*i)))
		arrival := atomic.LoadUint64(obj.Uint64(barMembersOff + uintptr(16*i) + 8))
		if id != 0 {
			st.Members = append(st.Members, BarrierMember{ID: id, Alive: obj.Segment().Alive(id),
				Arrived: uint32(arrival) == barGen(lo)|memberArrived})
		}
	}
	return st, nil
}
