package shm

import (
	"os"
	"sync/atomic"
	"unsafe"
)

// Process identity: who holds a lock, claims a queue slot, writes a value.
//
// Every word that names a process (lock owners, queue claims and roles,
// seqlock writers, the directory lock, barrier members) names it by an
// identity (an ID) that no process is ever handed again over the
// segment's life. A crashed process's ID stays in the words it held, and
// a waiter decides whether to take such a word over by asking whether the
// ID still lives; if another process could be handed the same ID, the dead
// holder would look alive (the next Lock waits on a stranger, a queue
// claim is never freed) or the stranger would look like the holder (its
// Unlock succeeds though it never locked; a reclaimer takes a live
// producer's claim and two messages tear each other).
//
// An ID is a participant-table slot index and that slot's generation:
//
//	bits  0..9   slot index, 1..MaxParticipants (0 is nobody)
//	bits 10..51  generation: how many times the slot has been claimed
//	bits 52..63  zero; free for the flags of the word holding the ID
//
// The generation only grows: a slot whose generation reaches its last
// value is retired for good rather than wrapped. At 42 bits a slot serves
// 4.4·10^12 attaches (a thousand attaches a second for 139 years), and
// attaches are spread over every free slot in turn (join starts where the
// previous one stopped), so no slot churns while others sit idle.
//
// Table slot i is two words:
//
//	word A  generation<<22 | pid   (pid 0: the slot is free)
//	word B  the start time of the process named in A (clock ticks since boot)
//
// A claim is one CAS of word A (it names the claimant from the first
// instant) followed by storing B. ID (i, g) lives while A still says
// generation g with a nonzero pid, and that pid is a running, non-zombie
// process with start time B: pid reuse changes the start time, any later
// claim changes A. Storing B is a CAS too, checked against A before and
// after (storeStart), so a claimer that lost its slot to a second claimer
// (who found it dead in the instant before B was stored) can never
// overwrite the second claimer's B: it sees A changed and starts over.
//
// Words too narrow for an ID carry a short form: its low ShortBits bits
// (index and the low 10 generation bits). A short form is never taken for
// dead while any live participant could bear it (AliveShort): since the
// claimant of a live claim is the current occupant of its slot, a live
// claim is never taken over, and a dead one whose short form collides with
// a live occupant waits for that occupant to leave.
//
// A process that detaches normally frees its slot (pid 0, generation
// kept), so its IDs read as dead at once; only a crash leaves a dead
// occupant, which join replaces when no free slot is left.
const (
	idIndexBits = 10
	// IDBits is how many low bits of a word an ID takes; the bits above
	// are free for the holding word's flags.
	IDBits = 52
	// ShortBits is how many bits the short form of an ID takes.
	ShortBits = 20

	idxMask   = 1<<idIndexBits - 1
	idMask    = 1<<IDBits - 1
	shortMask = 1<<ShortBits - 1

	pidBits  = 22
	pidMask  = 1<<pidBits - 1
	genShift = pidBits
)

// genBits is the generation's width: 42 in the field, smaller in tests,
// which retire a slot (its last generation used) in a few dozen attaches.
var genBits uint = IDBits - idIndexBits

func genMax() uint64 { return 1<<genBits - 1 }

func packEntry(pid uint32, gen uint64) uint64 { return uint64(pid&pidMask) | gen<<genShift }
func entryPid(a uint64) uint32                { return uint32(a) & pidMask }
func entryGen(a uint64) uint64                { return a >> genShift }

func makeID(index uint32, gen uint64) uint64 { return uint64(index) | gen<<idIndexBits }
func idIndex(id uint64) uint32               { return uint32(id) & idxMask }
func idGen(id uint64) uint64                 { return id >> idIndexBits }

// Short returns the short form of id: its low ShortBits bits.
func Short(id uint64) uint32 { return uint32(id) & shortMask }

// slotA and slotB return the table words of 1-based slot i (the caller checks i).
func (m *mapping) slotA(i uint32) *uint64 {
	return (*uint64)(unsafe.Pointer(&m.mem[m.tableOff+uint64(i-1)*tableEntrySize]))
}

func (m *mapping) slotB(i uint32) *uint64 {
	return (*uint64)(unsafe.Pointer(&m.mem[m.tableOff+uint64(i-1)*tableEntrySize+8]))
}

// join claims a slot for this process and returns its ID.
func (m *mapping) join() (uint64, error) {
	pid := uint32(os.Getpid())
	start, _, err := processStart(int(pid))
	if err != nil {
		return 0, err
	}
	// Start where the previous join stopped, so claims go round the table.
	first := atomic.AddUint32(&m.hdr().NextSlot, 1)
	for attempt := 0; attempt < 64; attempt++ {
		lost := false // a slot we went for was taken by another claimer
		// Free slots first, then slots of dead processes.
		for pass := 0; pass < 2; pass++ {
			for k := uint32(0); k < m.participants; k++ {
				i := (first+k)%m.participants + 1
				a := atomic.LoadUint64(m.slotA(i))
				if entryGen(a) >= genMax() {
					continue // retired: its last ID was handed out
				}
				if pass == 0 && entryPid(a) != 0 || pass == 1 && m.entryAlive(i, a) {
					continue
				}
				mine := packEntry(pid, entryGen(a)+1)
				if !atomic.CompareAndSwapUint64(m.slotA(i), a, mine) {
					lost = true
					continue
				}
				if m.storeStart(i, mine, start) {
					return makeID(i, entryGen(mine)), nil
				}
				// Taken from us before we could say who we are: look again.
				lost = true
			}
		}
		if !lost {
			break // every slot is live or retired
		}
	}
	return 0, ErrTooManyParticipants
}

// storeStart records this process's start time in slot i, which it claimed
// with word A = mine, and reports whether the slot is still its own.
func (m *mapping) storeStart(i uint32, mine, start uint64) bool {
	for {
		b := atomic.LoadUint64(m.slotB(i))
		if atomic.LoadUint64(m.slotA(i)) != mine {
			return false
		}
		if atomic.CompareAndSwapUint64(m.slotB(i), b, start) {
			return atomic.LoadUint64(m.slotA(i)) == mine
		}
	}
}

// leave frees this process's slot, keeping its generation so that IDs of
// this process left in shared words read as dead.
func (m *mapping) leave() {
	i := idIndex(m.self)
	if i == 0 || i > m.participants {
		return
	}
	a := atomic.LoadUint64(m.slotA(i))
	if entryGen(a) == idGen(m.self) && entryPid(a) == uint32(os.Getpid()) {
		atomic.CompareAndSwapUint64(m.slotA(i), a, packEntry(0, entryGen(a)))
	}
}

// Self returns this process's ID in the segment: never 0, at most IDBits
// wide, never held by another process over the segment's life.
func (s *Segment) Self() uint64 { return s.m.self }

// Alive reports whether the participant named by id is still attached and
// its process still runs. An ID read from shared memory is input: a
// malformed one is simply not alive. It reads /proc, so it belongs on slow
// paths only (a waiter that has slept a while checking on a lock's holder).
func (s *Segment) Alive(id uint64) bool {
	m := s.m
	if id != 0 && id == m.self {
		return true
	}
	i := idIndex(id)
	if id&^idMask != 0 || i == 0 || i > m.participants {
		return false
	}
	a := atomic.LoadUint64(m.slotA(i))
	return entryGen(a) == idGen(id) && m.entryAlive(i, a)
}

// AliveShort reports whether a live participant could bear the short form
// short: the current occupant of its slot lives and its ID has that short
// form. False means whoever bore it is gone; true may be a collision with
// a newer occupant of the slot (see the identity comment above), so it
// never lets a live participant's word be taken over.
func (s *Segment) AliveShort(short uint32) bool {
	m := s.m
	if short != 0 && short == Short(m.self) {
		return true
	}
	i := short & idxMask
	if short&^shortMask != 0 || i == 0 || i > m.participants {
		return false
	}
	a := atomic.LoadUint64(m.slotA(i))
	return Short(makeID(i, entryGen(a))) == short && m.entryAlive(i, a)
}

// Stamp returns the table word of the slot that id (or a short form)
// names, or 0 for a malformed one. Every claim and every detach of the
// slot changes it, so a verdict ("dead") reached about the slot's
// occupant holds for as long as Stamp returns the same value: a cache of
// such a verdict re-reads Stamp before trusting it.
func (s *Segment) Stamp(id uint64) uint64 {
	m := s.m
	i := idIndex(id)
	if i == 0 || i > m.participants {
		return 0
	}
	return atomic.LoadUint64(m.slotA(i))
}

// entryAlive reports whether slot i, whose word A was read as a, names a
// live process. Word B is read after A and A read again after B, so the
// start time compared belongs to the occupant A names.
func (m *mapping) entryAlive(i uint32, a uint64) bool {
	pid := entryPid(a)
	if pid == 0 {
		return false
	}
	start := atomic.LoadUint64(m.slotB(i))
	if atomic.LoadUint64(m.slotA(i)) != a {
		return false // the occupant changed: whoever a named has left
	}
	return processAlive(int(pid), start)
}

// A Participant is one occupied slot of a segment's participant table.
type Participant struct {
	ID    uint64
	Pid   int
	Alive bool
}

func (m *mapping) participantList() []Participant {
	var out []Participant
	for i := uint32(1); i <= m.participants; i++ {
		a := atomic.LoadUint64(m.slotA(i))
		if entryPid(a) == 0 {
			continue
		}
		out = append(out, Participant{ID: makeID(i, entryGen(a)), Pid: int(entryPid(a)), Alive: m.entryAlive(i, a)})
	}
	return out
}
