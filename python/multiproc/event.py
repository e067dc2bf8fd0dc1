"""Go's semaphore.Event from Python: multiprocessing.Event's shape.

The object's first 12 bytes (semaphore/event.go, kind version 2):

    0  word      u32: bit 0 the flag; bits 1..31 a generation that every
                 Set raising the flag counts up
    4  sleepers  u32: the gate's sleepers word (epoch | count)
    8  seq       u32: the gate's futex word

set:  CAS word -> (word + 2) | 1 unless already set; then signal every
      sleeper on the gate (a load while nobody sleeps).
wait: returns once the flag is set or the generation moved since it first
      looked (a Set followed at once by a Clear still wakes a waiter);
      parks on the gate (_gate.Gate.wait_until), as Go's waiters do.
"""

from . import _atomics as at
from ._gate import Gate
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
        self._gate = Gate(seg, e.offset + 8, e.offset + 4)
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
        self._gate.signal_all()

    def clear(self):
        while True:
            w = self._w32[self._i]
            if not w & FLAG or at.cas32(self._addr, w, w & ~FLAG) == w:
                return

    def wait(self, timeout=None):
        """Wait until the flag is set; False if timeout (s) passed first."""
        w32, i = self._w32, self._i
        w0 = w32[i]
        if w0 & FLAG:
            return True

        def ready():
            w = w32[i]
            return bool(w & FLAG) or (w & ~FLAG) != (w0 & ~FLAG)

        return self._gate.wait_until(ready, timeout, SPIN_ROUNDS)
