"""Go's semaphore.Semaphore / BoundedSemaphore from Python.

The object's first 16 bytes (semaphore/semaphore.go, kind version 2):

    0  value     u32: units available
    4  sleepers  u32: the gate's sleepers word (epoch | count)
    8  bound     u32: 0, or a BoundedSemaphore's initial value (immutable)
    12 seq       u32: the gate's futex word

acquire: CAS v -> v-1 for v > 0; else park on the gate (register, re-try,
         futex_wait on seq: _gate.Gate.wait_until), as Go's waiters do.
release: CAS v -> v+1 (refused at the bound), then signal one sleeper (a
         load while nobody sleeps).
Units are not owned: a process killed holding units does not give them
back (as in Go and in Python's multiprocessing).
"""

from . import _atomics as at
from ._gate import Gate
from .errors import Corrupt
from .segment import KIND_SEMAPHORE

SEM_SIZE = 64
SEM_MAX = (1 << 31) - 1
SPIN_ROUNDS = 8


class Semaphore:
    """multiprocessing.Semaphore (or BoundedSemaphore, if Go made it so)."""

    def __init__(self, seg, name):
        e = seg.open_object(name, KIND_SEMAPHORE)
        if e.size < SEM_SIZE:
            raise Corrupt("multiproc: semaphore %r: %d bytes" % (name, e.size))
        self._seg, self.name = seg, name
        self._i = e.offset >> 2
        self._addr = seg.base + e.offset
        self._w32 = seg.w32
        self.bound = self._w32[self._i + 2]
        self._gate = Gate(seg, e.offset + 12, e.offset + 4)
        if self.bound > SEM_MAX:
            raise Corrupt("multiproc: semaphore %r: bound %d" % (name, self.bound))
        seg._track(self)

    def _detach_views(self):
        self._w32 = None

    def get_value(self):
        return self._w32[self._i]

    def acquire(self, block=True, timeout=None):
        """Take a unit; False if none came (block False, or timeout s)."""
        w32, i, addr = self._w32, self._i, self._addr

        def take():
            while True:
                v = w32[i]
                if v == 0:
                    return False
                if at.cas32(addr, v, v - 1) == v:
                    return True

        if take():
            return True
        if not block:
            return False
        return self._gate.wait_until(take, timeout, SPIN_ROUNDS)

    def release(self):
        """Give a unit back; ValueError past a BoundedSemaphore's bound."""
        limit = self.bound or SEM_MAX
        while True:
            v = self._w32[self._i]
            if v >= limit:
                raise ValueError("multiproc: semaphore %r: released too many times (value %d)" % (self.name, v))
            if at.cas32(self._addr, v, v + 1) == v:
                break
        self._gate.signal(1)

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
