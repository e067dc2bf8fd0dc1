"""Go's semaphore.Event from Python: multiprocessing.Event's shape.

The object's first 8 bytes (semaphore/event.go):

    0  word      u32 futex word: bit 0 the flag; bits 1..31 a generation
                 that every Set raising the flag counts up
    4  sleepers  u32: processes asleep on word (a plain count)

set:  CAS word -> (word + 2) | 1 unless already set; then, if sleepers
      != 0, wake everyone on word.
wait: returns once the flag is set or the generation moved since it first
      looked (a Set followed at once by a Clear still wakes a waiter);
      parks with sleepers += 1, re-check, futex_wait, sleepers -= 1.
The sleepers add is a locked instruction and so is Set's CAS: either the
setter sees the count or the waiter's re-check sees the new word.
"""

import os
import time

from . import _atomics as at
from . import _futex
from .errors import Corrupt
from .segment import KIND_EVENT

FLAG = 1
GEN_STEP = 2
EVENT_SIZE = 64
SPIN_ROUNDS = 8


class Event:
    """A process-shared flag (Go's semaphore.Event)."""

    def __init__(self, seg, name):
        e = seg.open_object(name, KIND_EVENT)
        if e.size < EVENT_SIZE:
            raise Corrupt("multiproc: event %r: %d bytes" % (name, e.size))
        self._seg, self.name = seg, name
        self._i = e.offset >> 2
        self._addr = seg.base + e.offset
        self._w32 = seg.w32
        seg._track(self)

    def _detach_views(self):
        self._w32 = None

    def is_set(self):
        return self._w32[self._i] & FLAG != 0

    def set(self):
        while True:
            w = self._w32[self._i]
            if w & FLAG:
                return
            if at.cas32(self._addr, w, ((w + GEN_STEP) | FLAG) & at.MASK32) == w:
                break
        if self._w32[self._i + 1]:
            _futex.wake_all(self._addr)

    def clear(self):
        while True:
            w = self._w32[self._i]
            if not w & FLAG or at.cas32(self._addr, w, w & ~FLAG) == w:
                return

    def wait(self, timeout=None):
        """Wait until the flag is set; False if timeout (s) passed first."""
        w32 = self._w32
        w0 = w32[self._i]
        if w0 & FLAG:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        i = 0
        while True:
            w = w32[self._i]
            if w & FLAG or (w & ~FLAG) != (w0 & ~FLAG):
                return True
            if i < SPIN_ROUNDS and timeout != 0:
                i += 1
                os.sched_yield()
                continue
            left = None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
            at.add32(self._addr + 4, 1)
            try:
                if w32[self._i] == w:
                    _futex.wait(self._addr, w, left)
            finally:
                at.add32(self._addr + 4, at.MASK32)  # -1
