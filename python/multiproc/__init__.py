"""multiproc: Python processes on the shared queues, values and locks of the
Go library github.com/multiproc-go/multiproc.

    import multiproc
    seg = multiproc.open_segment("jobs")      # made by Go: shm.Create("jobs", ...)
    q = seg.queue("work")                      # ringqueue.New(seg, "work", ...)
    q.put(b"hello")                            # a Go Get receives it
    print(q.get(timeout=1.0))                  # queue.Empty on timeout
    seg.close()

Standard library only; x86-64 Linux (the atomics are a few machine
instructions called through ctypes).
"""

from queue import Empty, Full

from .errors import (Closed, Corrupt, KindMismatch, MultiprocError, NotFound, NotOwner,
                     NotRecoverable, NotSegment, OwnerDead, PidNamespace, RoleHeld,
                     TooLarge, TooManyParticipants, TypeMismatch, UnsupportedPlatform,
                     VersionMismatch)
from .segment import Segment, open_segment
from .queue import Queue

__all__ = ["Closed", "Corrupt", "Empty", "Full", "KindMismatch", "MultiprocError", "NotFound",
           "NotOwner", "NotRecoverable", "NotSegment", "OwnerDead", "PidNamespace", "Queue",
           "RoleHeld", "Segment", "TooLarge", "TooManyParticipants", "TypeMismatch",
           "UnsupportedPlatform", "VersionMismatch", "open_segment"]
from .lock import Lock
from .event import Event
from .semaphore import Semaphore
from .value import Array, Value
from .layout import GoInt, GoUint, GoUintptr, fingerprint, go_layout

__all__ += ["Semaphore", "Event", "Array", "GoInt", "GoUint", "GoUintptr", "Lock", "Value", "fingerprint", "go_layout"]
