"""Exceptions, one per meaning, mirroring the Go sentinels (internal/errs)."""


class MultiprocError(Exception):
    """Base of every error this package raises about a segment or object."""


class UnsupportedPlatform(MultiprocError, ImportError):
    """The machine lacks what the package needs (x86-64 Linux)."""


class NotSegment(MultiprocError):
    """The file is not a multiproc segment (bad magic): Go's shm.ErrNotSegment."""


class Corrupt(MultiprocError):
    """A header, entry or shared word fails validation: Go's shm.ErrCorrupt."""


class VersionMismatch(MultiprocError):
    """A layout version this package does not read: Go's shm.ErrVersion."""


class PidNamespace(MultiprocError):
    """The segment was created in another pid namespace: Go's shm.ErrPidNamespace."""


class KindMismatch(MultiprocError):
    """The named object is of another kind: Go's shm.ErrKindMismatch."""


class TypeMismatch(MultiprocError):
    """Element size or type fingerprint differ: Go's shm.ErrTypeMismatch."""


class NotFound(MultiprocError, LookupError):
    """No ready object of that name: Go's shm.ErrNotFound."""


class TooManyParticipants(MultiprocError):
    """No free participant slot: Go's shm.ErrTooManyParticipants."""


class Closed(MultiprocError, ValueError):
    """The queue was closed (by any process), or the handle detached."""


class TooLarge(MultiprocError, ValueError):
    """A message longer than the queue's slot size."""


class RoleHeld(MultiprocError):
    """An SPSC side's role is held by another live process: Go's ErrRole."""


class OwnerDead(MultiprocError):
    """The lock was taken over from a dead holder: Go's ErrOwnerDead.

    The caller holds the lock when this is raised: repair what it guards,
    call mark_consistent(), then release()."""


class NotRecoverable(MultiprocError):
    """A holder released the lock while inconsistent: Go's ErrNotRecoverable."""


class NotOwner(MultiprocError, RuntimeError):
    """Another process holds the lock: Go's ErrNotOwner."""
