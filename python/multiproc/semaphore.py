"""Go's semaphore.Semaphore / BoundedSemaphore from Python.

The object's first 12 bytes (semaphore/semaphore.go):

    0  value     u32: units available; the futex word
    4  sleepers  u32: processes asleep on value (a plain count)
    8  bound     u32: 0, or a BoundedSemaphore's initial value (immutable)

acquire: CAS v -> v-1 for v > 0; else sleepers += 1, re-read value and
         futex-wait while it is 0, sleepers -= 1.
release: CAS v -> v+1 (refused at the bound), then wake one sleeper if
         sleepers != 0.
Both sides' changes are locked instructions, so either the releaser sees
the sleeper counted or the sleeper's re-read sees the unit. Units are not
owned: a process killed holding units does not give them back (as in Go
and in Python's multiprocessing).
"""

import os
import time

from . import _atomics as at
from . import _futex
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
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        n = 0
        parked = False
        try:
            while True:
                v = w32[i]
                if v > 0:
                    if at.cas32(addr, v, v - 1) == v:
                        return True
                    continue
                if not block:
                    return False
                if n < SPIN_ROUNDS:
                    n += 1
                    os.sched_yield()
                    continue
                left = None
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._give_up(parked)
                        return False
                parked = True
                at.add32(addr + 4, 1)
                try:
                    if w32[i] == 0:
                        _futex.wait(addr, 0, left)
                finally:
                    at.add32(addr + 4, at.MASK32)  # -1
        except KeyboardInterrupt:
            self._give_up(parked)
            raise

    def _give_up(self, parked):
        # A release may have woken us rather than another sleeper: pass it on.
        if parked and self._w32 is not None and self._w32[self._i] > 0 and self._w32[self._i + 1] > 0:
            _futex.wake(self._addr, 1)

    def release(self):
        """Give a unit back; ValueError past a BoundedSemaphore's bound."""
        limit = self.bound or SEM_MAX
        while True:
            v = self._w32[self._i]
            if v >= limit:
                raise ValueError("multiproc: semaphore %r: released too many times (value %d)" % (self.name, v))
            if at.cas32(self._addr, v, v + 1) == v:
                break
        if self._w32[self._i + 1]:
            _futex.wake(self._addr, 1)

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
