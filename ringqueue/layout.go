package ringqueue

import (
	"fmt"
	"unsafe"

	"github.com/multiproc-go/multiproc/shm"
)

// The byte layout of a queue object, version 2 (LAYOUT.md is the long form).
// Offsets are from the object's first byte, which shm places 64-byte
// aligned; integers are in the host's byte order.
//
//	  0  header      128 bytes: immutable after creation, except Closed
//	128  tail line   128 bytes: Tail (u64), SPSC producer role (u32)
//	256  head line   128 bytes: Head (u64), SPSC consumer role (u32)
//	384  wait lines  128 bytes: consumers' gate at 384, producers' at 448
//	512  slots       Capacity × Stride bytes
//	     aux         AuxSize bytes, 64-byte aligned, for layers on top (JoinableQueue)
//
// Each index sits alone in the first 64 bytes of a 128-byte region and the
// region's second half is never written: whatever the object's alignment
// modulo 128, the adjacent-line prefetcher's pair holding a hot index
// holds no other hot word, so the producer's and the consumer's indices
// never share a line or a prefetch pair.
//
// A slot, MPMC: Ctrl u64 at 0, Len u32 at 8, 4 bytes zero, payload at 16.
// A slot, SPSC: Len u32 at 0, 4 bytes zero, payload at 8.
// Stride = slot header + SlotSize rounded up to 8.
const (
	magicWord     uint64 = 0x3176_6575_7571_706d // the bytes "mpquuev1" on a little-endian host
	layoutVersion uint32 = 2                     // 2: 64-bit SPSC role IDs

	headerSize  = 128
	indexRegion = 128
	slotsOff    = headerSize + 2*indexRegion + 128 // 512

	mpmcSlotHeader = 16
	spscSlotHeader = 8

	// MaxCapacity bounds the slot count (a power of two).
	MaxCapacity = 1 << 30
	// MaxSlotSize bounds a slot's payload.
	MaxSlotSize = 64 << 20
	// maxObject bounds a queue object's size, whatever the header says.
	maxObject = 1 << 40

	// DefaultCapacity and DefaultSlotSize apply when Options leave them zero.
	DefaultCapacity = 1024
	DefaultSlotSize = 256
)

// Mode is a queue's concurrency mode, fixed at creation.
type Mode uint32

const (
	// MPMC admits any number of producers and consumers, in any processes.
	MPMC Mode = 1
	// SPSC admits one producer and one consumer at a time (one process each;
	// within a process, one goroutine per role at a time). It is faster:
	// no per-slot control words, cached opposite indices, one index store
	// per batch.
	SPSC Mode = 2
)

func (m Mode) String() string {
	switch m {
	case MPMC:
		return "MPMC"
	case SPSC:
		return "SPSC"
	}
	return fmt.Sprintf("mode(%d)", uint32(m))
}

// header is the object's first 128 bytes.
type header struct {
	Magic    uint64 // magicWord
	Version  uint32 // layoutVersion
	Mode     uint32 // MPMC or SPSC
	Capacity uint32 // slots, a power of two
	SlotSize uint32 // largest message, bytes
	Stride   uint32 // bytes from one slot to the next
	Flags    uint32 // zero in version 1
	SlotsOff uint64 // first slot (slotsOff)
	AuxOff   uint64 // aux area, 0 when AuxSize is 0
	AuxSize  uint64 // aux bytes
	// Closed is the only mutable header word: 0 open, 1 closed, set once
	// by Close. It is read on the put path, which is cheap because nobody
	// writes it afterwards: the line stays shared in every cache.
	Closed uint32
	_      uint32
	_      [64]byte
}

// indexLine holds one index and, for SPSC, the ID of the role holder.
type indexLine struct {
	Index uint64 // MPMC: next position; SPSC tail: published count | spscClosedBit
	Role  uint64 // SPSC: ID (shm.Segment.Self) holding this side's role, 0 if none
	_     [112]byte
}

// waitLine holds the two futex gates. Sleepers are written only on the
// slow path, and each side reads the other's count on every operation: a
// read-mostly line costs nothing while nobody sleeps.
type waitLine struct {
	GetSeq      uint32 // consumers sleep on it; bumped when messages arrive
	GetSleepers uint32 // consumers counted asleep (or about to be)
	Reclaimed   uint64 // MPMC: claims of dead participants reclaimed so far
	_           [48]byte
	PutSeq      uint32 // producers sleep on it; bumped when slots free up
	PutSleepers uint32 // producers counted asleep
	_           [56]byte
}

// layout is the first slotsOff bytes of the object.
type layout struct {
	Hdr  header
	Tail indexLine
	Head indexLine
	Wait waitLine
}

// Compile-time layout checks: a mismatch fails to build (negative array length).
var (
	_ [headerSize - unsafe.Sizeof(header{})]byte
	_ [unsafe.Sizeof(header{}) - headerSize]byte
	_ [indexRegion - unsafe.Sizeof(indexLine{})]byte
	_ [unsafe.Sizeof(indexLine{}) - indexRegion]byte
	_ [slotsOff - unsafe.Sizeof(layout{})]byte
	_ [unsafe.Sizeof(layout{}) - slotsOff]byte
	_ [unsafe.Offsetof(layout{}.Tail) - 128]byte
	_ [unsafe.Offsetof(layout{}.Head) - 256]byte
	_ [unsafe.Offsetof(layout{}.Wait) - 384]byte
	_ [unsafe.Offsetof(waitLine{}.PutSeq) - 64]byte
	_ [unsafe.Offsetof(header{}.Closed) - 56]byte
	_ [unsafe.Offsetof(waitLine{}.Reclaimed) - 8]byte
)

// The MPMC slot control word (see mpmc.go for the protocol):
//
//	bits  0..1   state: stateFree, stateWriting, stateFull, stateReading
//	bits  2..21  short form of the claimant's ID (shm.Short), else 0; the
//	             word has no room for the whole ID next to a 42-bit lap, and
//	             it needs none: a claim is reclaimed only when no live
//	             participant bears the short form (shm.Segment.AliveShort),
//	             so a live claimant's claim is never taken over (recover.go)
//	bits 22..63  lap: position / Capacity, modulo 2^42
//
// A zeroed slot is free at lap 0, so a zeroed ring is an empty queue.
const (
	stateFree    = 0 // the slot may be claimed by the producer of position lap*Capacity+i
	stateWriting = 1 // a producer (tag) claimed it and is writing the message
	stateFull    = 2 // the message is published
	stateReading = 3 // a consumer (tag) claimed the message and is reading it

	stateBits = 2
	stateMask = 1<<stateBits - 1
	tagShift  = stateBits
	tagMask   = 1<<shm.ShortBits - 1
	lapShift  = stateBits + shm.ShortBits // 22
	lapBits   = 64 - lapShift             // 42
	lapMask   = 1<<lapBits - 1
)

func ctrlWord(lap uint64, tag uint32, state uint64) uint64 {
	return lap<<lapShift | uint64(tag&tagMask)<<tagShift | state
}

func ctrlLap(c uint64) uint64   { return c >> lapShift }
func ctrlTag(c uint64) uint32   { return uint32(c>>tagShift) & tagMask }
func ctrlState(c uint64) uint64 { return c & stateMask }

// lapDiff returns l-L as a signed 42-bit difference: laps wrap modulo 2^42
// (after 2^42 laps of the ring), and every comparison the protocol makes is
// between laps a few apart, so the sign is always right.
func lapDiff(l, L uint64) int64 { return int64((l-L)<<lapShift) >> lapShift }

// skipLen in an MPMC slot's Len marks a published message that is not to
// be delivered (an aborted reservation, a claim abandoned at Close, a dead
// producer's claim): consumers claim it, free it and pass on.
const skipLen = ^uint32(0)

// spscClosedBit is set in an SPSC queue's Tail by Close: the producer
// publishes with a CAS on Tail, so a publication and a Close are ordered
// by that one word and a consumer that sees the queue empty and closed
// knows no message can follow.
const spscClosedBit = 1 << 63

// geometry is a validated header, copied into the handle: bounds come from
// here, never from a second read of shared memory.
type geometry struct {
	mode       Mode
	capacity   uint64
	shift      uint // log2(capacity)
	slotSize   int
	stride     uint64
	slotHeader uint64
	auxOff     uint64
	auxSize    uint64
}

func slotHeaderFor(m Mode) uint64 {
	if m == SPSC {
		return spscSlotHeader
	}
	return mpmcSlotHeader
}

func align(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// computeGeometry checks creation parameters and lays them out.
func computeGeometry(mode Mode, capacity, slotSize, aux int) (geometry, uint64, error) {
	if mode != MPMC && mode != SPSC {
		return geometry{}, 0, fmt.Errorf("%w: mode %d", ErrInvalid, mode)
	}
	if capacity < 1 || capacity > MaxCapacity || capacity&(capacity-1) != 0 {
		return geometry{}, 0, fmt.Errorf("%w: capacity %d (want a power of two, 1..%d)", ErrInvalid, capacity, MaxCapacity)
	}
	if slotSize < 1 || slotSize > MaxSlotSize {
		return geometry{}, 0, fmt.Errorf("%w: slot size %d (want 1..%d)", ErrInvalid, slotSize, MaxSlotSize)
	}
	if aux < 0 || aux > 1<<30 {
		return geometry{}, 0, fmt.Errorf("%w: aux size %d", ErrInvalid, aux)
	}
	g := geometry{mode: mode, capacity: uint64(capacity), slotSize: slotSize, slotHeader: slotHeaderFor(mode)}
	for 1<<g.shift < g.capacity {
		g.shift++
	}
	g.stride = g.slotHeader + align(uint64(slotSize), 8)
	end := slotsOff + g.capacity*g.stride
	if aux > 0 {
		g.auxOff = align(end, 64)
		g.auxSize = uint64(aux)
		end = g.auxOff + g.auxSize
	}
	if end > maxObject {
		return geometry{}, 0, fmt.Errorf("%w: %d slots of %d bytes need %d bytes", ErrInvalid, capacity, slotSize, end)
	}
	return g, end, nil
}

// validate checks a header snapshot against the object it sits in. Shared
// memory is input: every field is checked before anything is derived
// from it, and the result never lets an access leave the object.
func validate(h *header, objSize uint64) (geometry, error) {
	if objSize < slotsOff {
		return geometry{}, fmt.Errorf("%w: queue object of %d bytes, shorter than its %d-byte header", shm.ErrCorrupt, objSize, slotsOff)
	}
	if h.Magic != magicWord {
		return geometry{}, fmt.Errorf("%w: bad queue magic %#x", shm.ErrCorrupt, h.Magic)
	}
	if h.Version != layoutVersion {
		return geometry{}, fmt.Errorf("%w: queue layout %d, this library reads %d", shm.ErrVersion, h.Version, layoutVersion)
	}
	mode := Mode(h.Mode)
	if mode != MPMC && mode != SPSC {
		return geometry{}, fmt.Errorf("%w: queue mode %d", shm.ErrCorrupt, h.Mode)
	}
	c := h.Capacity
	if c == 0 || c > MaxCapacity || c&(c-1) != 0 {
		return geometry{}, fmt.Errorf("%w: queue capacity %d is not a power of two in 1..%d", shm.ErrCorrupt, c, MaxCapacity)
	}
	if h.SlotSize == 0 || h.SlotSize > MaxSlotSize {
		return geometry{}, fmt.Errorf("%w: queue slot size %d (want 1..%d)", shm.ErrCorrupt, h.SlotSize, MaxSlotSize)
	}
	if h.Flags != 0 {
		return geometry{}, fmt.Errorf("%w: queue flags %#x set", shm.ErrCorrupt, h.Flags)
	}
	if h.Closed > 1 {
		return geometry{}, fmt.Errorf("%w: queue closed word %d", shm.ErrCorrupt, h.Closed)
	}
	if h.AuxSize > 1<<30 {
		return geometry{}, fmt.Errorf("%w: queue aux size %d", shm.ErrCorrupt, h.AuxSize)
	}
	g, end, err := computeGeometry(mode, int(c), int(h.SlotSize), int(h.AuxSize))
	if err != nil {
		return geometry{}, fmt.Errorf("%w: %v", shm.ErrCorrupt, err)
	}
	if uint64(h.Stride) != g.stride || h.SlotsOff != slotsOff || h.AuxOff != g.auxOff {
		return geometry{}, fmt.Errorf("%w: queue stride/slots/aux at %d/%d/%d, want %d/%d/%d",
			shm.ErrCorrupt, h.Stride, h.SlotsOff, h.AuxOff, g.stride, slotsOff, g.auxOff)
	}
	if end > objSize {
		return geometry{}, fmt.Errorf("%w: %d slots of %d bytes need %d bytes, the object has %d",
			shm.ErrCorrupt, c, h.SlotSize, end, objSize)
	}
	return g, nil
}

// checkIndices checks a pair of indices that held at one instant. SPSC:
// Head <= Tail <= Head+Capacity. MPMC: Tail may run up to two rings ahead
// of Head (consumers claim a batch of messages before moving Head, and
// producers may fill the slots those free), and Head ahead of Tail by the
// positions whose claims were skipped after their producer died before
// moving Tail (at most a ring).
func checkIndices(g geometry, head, tail uint64) error {
	if g.mode == SPSC {
		tail &^= spscClosedBit
		if tail-head > g.capacity {
			return fmt.Errorf("%w: queue head %d and tail %d are more than %d apart", shm.ErrCorrupt, head, tail, g.capacity)
		}
		return nil
	}
	if d := tail - head; d > 2*g.capacity && -d > g.capacity {
		return fmt.Errorf("%w: queue head %d and tail %d are too far apart for %d slots", shm.ErrCorrupt, head, tail, g.capacity)
	}
	return nil
}
