package shm

import (
	"errors"
	"io/fs"
)

// Errors from opening and validating a segment.
var (
	// ErrNotSegment: the file or descriptor does not hold a multiproc segment
	// (wrong magic, or too short to hold a header).
	ErrNotSegment = errors.New("not a multiproc segment")
	// ErrVersion: the segment was laid out by a newer or older version of
	// this library than the one reading it.
	ErrVersion = errors.New("unsupported segment layout version")
	// ErrCorrupt: a header, directory entry or offset in the segment is out
	// of bounds or inconsistent. Shared memory is input; this is its error.
	ErrCorrupt = errors.New("segment is corrupt")
)

// Errors from creating, attaching and closing segments.
var (
	// ErrExists: creating a segment or object under a name that is taken.
	// It matches fs.ErrExist under errors.Is, as os.OpenFile's error does.
	ErrExists error = &fsError{"already exists", fs.ErrExist}
	// ErrNotFound: opening a segment or object that does not exist. It
	// matches fs.ErrNotExist under errors.Is, as os.Open's error does.
	ErrNotFound    error = &fsError{"not found", fs.ErrNotExist}
	ErrClosed            = errors.New("segment is closed")
	ErrInvalidName       = errors.New("invalid name")
	ErrInvalidSize       = errors.New("invalid size")
	// ErrNotAttached: a handle names an anonymous segment that this process
	// has not inherited, so there is nothing to re-attach to.
	ErrNotAttached = errors.New("segment is not attached in this process")
	// ErrTooManyParticipants: every slot of the participant table belongs to
	// a live process (or has served all the IDs it can give, see Segment.Self).
	ErrTooManyParticipants = errors.New("participant table is full")
	// ErrPidNamespace: the segment was created in another pid namespace
	// (another container sharing /dev/shm). Liveness is read from /proc in
	// the reader's namespace, where the other namespace's pids mean other
	// processes or nothing, so a participant there would take live locks
	// over: attaching is refused. OpenView still reads such a segment.
	ErrPidNamespace = errors.New("segment belongs to another pid namespace")
	// ErrReadOnly: a write through a read-only view (OpenView).
	ErrReadOnly = errors.New("segment is mapped read-only")
)

// Errors from the object directory and the allocator.
var (
	// ErrNoSpace: the segment has no room left for the allocation.
	ErrNoSpace = errors.New("segment is full")
	// ErrDirectoryFull: every directory entry is taken.
	ErrDirectoryFull = errors.New("object directory is full")
	// ErrKindMismatch: an object exists under the name but is of another kind.
	ErrKindMismatch = errors.New("object is of another kind")
	// ErrTypeMismatch: an object exists under the name with another element
	// size or type fingerprint.
	ErrTypeMismatch = errors.New("object has another element type")
)

// An fsError is a sentinel of its own (errors.Is compares its pointer) that
// also matches the io/fs error of the same meaning, so code written for
// files handles segments and objects without knowing this package.
type fsError struct {
	text string
	fs   error
}

func (e *fsError) Error() string        { return e.text }
func (e *fsError) Is(target error) bool { return target == e.fs }
