package manager

import (
	"context"
	"errors"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// Errors about connections and the protocol.
var (
	// ErrAuth: the peer does not hold the same authkey (or does not speak
	// the handshake). The server hangs up on such a client and serves others.
	ErrAuth = protocol.ErrAuth
	// ErrClosed: the call's connection is closed — by Close, by the server's
	// shutdown or death, or by a broken network. Calls in flight when it
	// closes return it; none hangs.
	ErrClosed = errors.New("connection closed")
	// ErrShutdown: the server is shutting down; the call was abandoned.
	ErrShutdown = errors.New("server shut down")
	// ErrProtocol: the peer broke the wire format; the connection is dropped.
	ErrProtocol = errors.New("protocol error")
	// ErrVersion: client and server speak different protocol versions.
	ErrVersion = errors.New("protocol version mismatch")
	// ErrBusy: a connection has too many calls, or too many bytes, in
	// flight (Options.MaxCallsPerConn, MaxBytesPerConn); the call was
	// refused, not queued.
	ErrBusy = errors.New("too many calls in flight on one connection")
	// ErrTooLarge: a request or reply does not fit in Options.MaxFrame.
	ErrTooLarge = errors.New("message too large")
)

// Errors about objects and calls.
var (
	// ErrNoObject: the object was released (no proxy left) or never existed.
	ErrNoObject = errors.New("no such object")
	// ErrNoMethod: the object has no such method, or it cannot be called
	// remotely (see Register).
	ErrNoMethod = errors.New("no such method")
	// ErrBadArgs: a call's arguments do not fit the method.
	ErrBadArgs = errors.New("bad arguments")
	// ErrType: a value does not decode as the proxy's type, or a proxy was
	// decoded for an object of another type, or a type cannot be a key.
	ErrType = errors.New("type mismatch")
	// ErrNotFound: no such key (Dict), attribute (Namespace) or name. It
	// is shm.ErrNotFound, so it matches fs.ErrNotExist under errors.Is.
	ErrNotFound = shm.ErrNotFound
	// ErrIndex: an index out of range (List, Array).
	ErrIndex = errors.New("index out of range")
	// ErrInvalid: an argument out of range (a negative size, zero parties).
	// The same value as every package's ErrInvalid.
	ErrInvalid = semaphore.ErrInvalid
	// ErrRemote: a registered type's method returned an error; its text is
	// in the RemoteError.
	ErrRemote = errors.New("remote error")
)

// Errors from queues and synchronization: the very values of packages
// semaphore and ringqueue, so errors.Is(err, semaphore.ErrOwnerDead) holds
// for a manager Mutex as for a local one, and code handling one handles
// the other. The client maps a wire code back to the same value.
var (
	// ErrEmpty: TryGet on an empty queue (Python's queue.Empty).
	ErrEmpty = ringqueue.ErrEmpty
	// ErrFull: TryPut on a full queue (Python's queue.Full).
	ErrFull = ringqueue.ErrFull
	// ErrTaskDone: TaskDone called more times than items were put.
	ErrTaskDone = ringqueue.ErrTaskDoneTooMany
	// ErrWouldBlock: a Try call found the lock held or no unit available.
	ErrWouldBlock = semaphore.ErrWouldBlock
	// ErrOwnerDead: the lock was taken over from a holder whose connection
	// ended (its process died, or closed it) while holding it. The caller
	// holds the lock; the data it guards may be half-updated.
	ErrOwnerDead = semaphore.ErrOwnerDead
	// ErrNotOwner: unlocking an RLock, or waiting on or notifying a
	// Condition, without holding the lock.
	ErrNotOwner = semaphore.ErrNotOwner
	// ErrUnlocked: unlocking a lock that nobody holds.
	ErrUnlocked = semaphore.ErrUnlocked
	// ErrBoundExceeded: Release on a BoundedSemaphore beyond its initial value.
	ErrBoundExceeded = semaphore.ErrBoundExceeded
	// ErrBrokenBarrier: the barrier was aborted or reset, or a wait on it
	// timed out, was cancelled or lost its connection.
	ErrBrokenBarrier = semaphore.ErrBrokenBarrier
)

// ErrTimeout is returned (wrapped) by the Timeout forms when the time
// passed first. It is the same value as every package's ErrTimeout and
// matches context.DeadlineExceeded under errors.Is.
var ErrTimeout = semaphore.ErrTimeout

// Acquired reports whether a lock call that returned err holds the lock:
// err is nil or wraps ErrOwnerDead.
func Acquired(err error) bool { return err == nil || errors.Is(err, ErrOwnerDead) }

// A RemoteError is a call's failure as the server reported it. Err is the
// sentinel its wire code names (ErrRemote for a registered method's own
// error), so errors.Is(err, ErrNotFound) and the like work across the wire.
type RemoteError struct {
	Op      string // what was called, e.g. "dict 7: Get"
	Message string // the server's text
	Err     error
}

func (e *RemoteError) Error() string { return "manager: " + e.Op + ": " + e.Message }
func (e *RemoteError) Unwrap() error { return e.Err }

// Wire error codes. Append only: a code's meaning never changes.
var errorCodes = []error{
	0:  nil, // never sent
	1:  ErrRemote,
	2:  ErrNoObject,
	3:  ErrNoMethod,
	4:  ErrBadArgs,
	5:  ErrType,
	6:  ErrNotFound,
	7:  ErrIndex,
	8:  ErrInvalid,
	9:  ErrEmpty,
	10: ErrFull,
	11: ErrTaskDone,
	12: ErrWouldBlock,
	13: ErrOwnerDead,
	14: ErrNotOwner,
	15: ErrUnlocked,
	16: ErrBoundExceeded,
	17: ErrBrokenBarrier,
	18: context.Canceled,
	19: ErrShutdown,
	20: ErrBusy,
	21: ErrTooLarge,
	22: ErrVersion,
	23: ErrTimeout,
	24: ErrClosed,
}

// errorCode maps err to its wire code: the first sentinel it wraps, or
// ErrRemote's.
func errorCode(err error) uint64 {
	for code, s := range errorCodes {
		if s != nil && s != ErrRemote && errors.Is(err, s) {
			return uint64(code)
		}
	}
	return 1
}

// codeError maps a wire code back to its sentinel; an unknown code (a newer
// server) reads as ErrRemote.
func codeError(code uint64) error {
	if code > 0 && code < uint64(len(errorCodes)) {
		return errorCodes[code]
	}
	return ErrRemote
}
