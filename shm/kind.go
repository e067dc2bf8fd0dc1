package shm

import "fmt"

// Kind says what an object in a segment's directory is. Every shared type
// of the module has its kind here, in one list, so that tools reading a
// segment (shmctl) can name what they find and no two packages collide.
type Kind uint32

// Kinds of objects. Zero is reserved: a directory entry with kind 0 is corrupt.
const (
	KindBytes Kind = iota + 1 // raw bytes allocated with Segment.Alloc
	KindMutex
	KindRLock
	KindSemaphore
	KindCondition
	KindEvent
	KindBarrier
	KindValue
	KindArray
	KindQueue
	KindJoinableQueue
	KindPipe
	KindPool // a process pool's per-worker state words (procs.Pool)
	kindEnd
)

var kindNames = [...]string{
	KindBytes:         "bytes",
	KindMutex:         "mutex",
	KindRLock:         "rlock",
	KindSemaphore:     "semaphore",
	KindCondition:     "condition",
	KindEvent:         "event",
	KindBarrier:       "barrier",
	KindValue:         "value",
	KindArray:         "array",
	KindQueue:         "queue",
	KindJoinableQueue: "joinable-queue",
	KindPipe:          "pipe",
	KindPool:          "pool",
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k > 0 && k < kindEnd }

func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint32(k))
}

// kindVersions is the layout version of each kind that this library reads
// and writes. A directory entry records its kind's version when the object
// is created, and OpenObject refuses another with ErrVersion, so a process
// built from an older or newer release never misreads an object whose
// words changed meaning. Bump a kind's version here whenever its byte
// layout or its protocol on shared words changes.
//
// Version 2 of Semaphore, Condition, Event and Barrier: they wait on a
// futex.Gate (a seq futex word beside a sleepers word that holds an epoch
// and a count); JoinableQueue's join sleepers word became that too.
var kindVersions = [...]uint16{
	KindBytes:         1,
	KindMutex:         1,
	KindRLock:         1,
	KindSemaphore:     2,
	KindCondition:     2,
	KindEvent:         2,
	KindBarrier:       2,
	KindValue:         1,
	KindArray:         1,
	KindQueue:         1,
	KindJoinableQueue: 2,
	KindPipe:          1,
	KindPool:          1,
}

// Version returns the layout version of k that this library reads and
// writes (0 for an invalid kind).
func (k Kind) Version() uint16 {
	if k.Valid() {
		return kindVersions[k]
	}
	return 0
}
