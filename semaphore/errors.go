package semaphore

import (
	"errors"

	"github.com/multiproc-go/multiproc/internal/errs"
)

// Errors from locking. A lock call that returns nil or an error wrapping
// ErrOwnerDead holds the lock (see Acquired); any other error means it
// does not.
var (
	// ErrOwnerDead: the lock was taken over from a holder that died while
	// holding it (EOWNERDEAD). The caller now holds the lock, but the data
	// it guards may be half-updated: repair it, then call MarkConsistent
	// before unlocking, or the lock becomes unusable (ErrNotRecoverable).
	ErrOwnerDead = errors.New("previous owner died holding the lock")
	// ErrNotRecoverable: a holder that took the lock over from a dead owner
	// unlocked it without MarkConsistent; the lock stays unusable for good
	// (ENOTRECOVERABLE), since nobody vouched for the data it guards.
	ErrNotRecoverable = errors.New("lock is not recoverable")
	// ErrNotOwner: unlocking, marking consistent, waiting on or notifying a
	// condition, by a caller that does not hold the lock.
	ErrNotOwner = errors.New("lock is not held by the caller")
	// ErrUnlocked: unlocking a lock that nobody holds.
	ErrUnlocked = errors.New("lock is not locked")
	// ErrWouldBlock: a Try call found the lock held or no unit available.
	ErrWouldBlock = errors.New("would block")
	// ErrRecursion: an RLock's recursion count would overflow.
	ErrRecursion = errors.New("recursion count overflow")
)

// Errors from semaphores, barriers and waits in general.
var (
	// ErrBoundExceeded: Release on a BoundedSemaphore would raise its value
	// above the initial value (Python's ValueError).
	ErrBoundExceeded = errors.New("semaphore released too many times")
	// ErrBrokenBarrier: the barrier was aborted, a wait on it timed out or
	// was cancelled, or a participant died while others waited; every
	// waiter of the round gets it until Reset.
	ErrBrokenBarrier = errors.New("barrier is broken")
	// ErrInvalid: an argument is out of range (a negative count, a
	// barrier of zero parties, ...). The same value as every package's
	// ErrInvalid.
	ErrInvalid = errs.ErrInvalid
)

// ErrTimeout is returned (wrapped) by the Timeout forms when the time
// passed first. It is the same value as every package's ErrTimeout and
// matches context.DeadlineExceeded under errors.Is, so code that handles
// contexts handles it too.
var ErrTimeout = errs.ErrTimeout

// Acquired reports whether a lock call that returned err holds the lock:
// err is nil or wraps ErrOwnerDead.
func Acquired(err error) bool { return err == nil || errors.Is(err, ErrOwnerDead) }
