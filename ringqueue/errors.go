package ringqueue

import (
	"errors"

	"github.com/multiproc-go/multiproc/internal/errs"
)

// Errors of queue operations. Every error a method returns wraps one of
// these (or a context error, or one of shm's) with the queue's name and the
// operation, so errors.Is works on it.
var (
	// ErrClosed: Put after Close, or Get on a closed queue that is drained.
	ErrClosed = errors.New("queue is closed")
	// ErrFull: TryPut found no free slot. A PutTimeout that timed out
	// wraps both ErrTimeout and ErrFull.
	ErrFull = errors.New("queue is full")
	// ErrEmpty: TryGet found no message. A GetTimeout that timed out wraps
	// both ErrTimeout and ErrEmpty.
	ErrEmpty = errors.New("queue is empty")
	// ErrTimeout: an XTimeout call waited its whole duration. It is the
	// same value as every package's ErrTimeout and matches
	// context.DeadlineExceeded under errors.Is.
	ErrTimeout = errs.ErrTimeout
	// ErrTooLarge: a message is longer than the queue's slot size. Messages
	// are never split across slots: the error names both sizes, and
	// nothing is queued.
	ErrTooLarge = errors.New("message larger than a slot")
	// ErrShortBuffer: Get's buffer is shorter than the next message. The
	// message stays queued; a buffer of SlotSize bytes always suffices.
	ErrShortBuffer = errors.New("buffer shorter than the message")
	// ErrRole: an SPSC queue's producer (or consumer) role is held by
	// another live process. The role passes on when its holder detaches
	// (Detach, or closing its segment) or dies.
	ErrRole = errors.New("SPSC role is held by another process")
	// ErrNotHeld: Commit, Abort or Release of a reservation or message that
	// is no longer held (already committed or released, or taken over
	// after this process was presumed dead).
	ErrNotHeld = errors.New("slot is not held")
	// ErrInvalid: Options or arguments out of range (the same value as
	// every package's ErrInvalid).
	ErrInvalid = errs.ErrInvalid
)
