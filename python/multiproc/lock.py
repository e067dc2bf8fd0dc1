"""Go's semaphore.Mutex from Python: multiprocessing.Lock's shape, with the
owner-death protocol.

The lock word is Go's (semaphore/mutex.go), one 64-bit word:

    bits  0..51  holder's ID (the segment's participant ID), 0 when free
    bit  52      waiters: someone may sleep on the word; unlock wakes one
    bit  53      inconsistent: taken over from a dead holder, not yet
                 marked consistent
    bit  54      not recoverable (the whole word then)
    bit  55      RLock's owner-recorded bit
    bits 56..63  zero; anything else there is corrupt

    lock:   CAS 0 -> self; else set the waiters bit (CAS) and futex-wait
            on the word's low half while it holds that value, in slices;
            every OWNER_CHECK_EVERY ask the participant table whether the
            holder lives, and if not CAS its exact word to
            self|waiters|inconsistent and raise OwnerDead (the caller
            then holds the lock)
    unlock: CAS self -> 0 (or -> not recoverable when inconsistent); if
            the old word had the waiters bit, wake one (all when not
            recoverable)

IDs are never handed to another process, so a dead Python holder reads as
dead to a Go waiter and the other way round. Ownership is per process, as
in Go: any thread of the holding process may release.
"""

import os
import time

from . import _atomics as at
from . import _futex
from .errors import Corrupt, NotOwner, NotRecoverable, OwnerDead
from .participants import ID_BITS
from .segment import KIND_MUTEX

HOLDER = (1 << ID_BITS) - 1
WAITERS = 1 << ID_BITS
INCONSISTENT = WAITERS << 1
NOT_RECOVERABLE = WAITERS << 2
OWNER_RECORDED = WAITERS << 3
KNOWN = HOLDER | WAITERS | INCONSISTENT | NOT_RECOVERABLE | OWNER_RECORDED
MUTEX_SIZE = 64
OWNER_CHECK_EVERY = 0.025
SPIN_ROUNDS = 8
SPIN_FOR = 50e-6  # and then yield on for up to this long (Go's ringqueue spinFor)
SPIN_MAX_ROUNDS = 1000


class Lock:
    """A process-shared lock living in a segment (Go's semaphore.Mutex)."""

    def __init__(self, seg, offset, name):
        """The mutex at byte offset (64-aligned) of seg; use Lock.open or
        Value.get_lock() rather than this."""
        if offset % 64 or offset + MUTEX_SIZE > seg.size:
            raise Corrupt("multiproc: mutex %r at %d outside the segment or misaligned" % (name, offset))
        self._seg = seg
        self.name = name
        self._i = offset >> 3
        self._addr = seg.base + offset
        self._self = seg.self_id
        self._w64 = seg.w64
        seg._track(self)

    @classmethod
    def open(cls, seg, name):
        e = seg.open_object(name, KIND_MUTEX)
        if e.size < MUTEX_SIZE:
            raise Corrupt("multiproc: mutex %r: %d bytes" % (name, e.size))
        return cls(seg, e.offset, name)

    def _detach_views(self):
        self._w64 = None

    def _check_word(self, s):
        if s & ~KNOWN or (s & NOT_RECOVERABLE and s != NOT_RECOVERABLE):
            raise Corrupt("multiproc: mutex %r: lock word %#x" % (self.name, s))
        if s == NOT_RECOVERABLE:
            raise NotRecoverable("multiproc: mutex %r: not recoverable" % self.name)

    def _take_over_if_dead(self, s):
        holder = s & HOLDER
        if holder == 0 or holder == self._self or self._seg.alive(holder):
            return False
        nw = self._self | (s & WAITERS) | INCONSISTENT
        if at.cas64(self._addr, s, nw) != s:
            return False
        raise OwnerDead("multiproc: mutex %r: holder %#x died; this process holds the lock now: "
                        "repair, mark_consistent(), release()" % (self.name, holder))

    def acquire(self, block=True, timeout=None):
        """Lock. Returns True, or False when block is False or timeout (s)
        passed with the lock held by a live process. Raises OwnerDead when
        it took the lock from a dead holder (it then holds it)."""
        if at.cas64(self._addr, 0, self._self) == 0:
            return True
        if not block:
            timeout = 0
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        parked = False
        next_check = None
        i = 0
        spin_end = 0.0
        w64 = self._w64
        try:
            while True:
                s = w64[self._i]
                self._check_word(s)
                if s & HOLDER == 0:
                    nw = self._self | (s & WAITERS) | (WAITERS if parked else 0)
                    if at.cas64(self._addr, s, nw) == s:
                        return True
                    continue
                if deadline is not None and timeout <= 0:
                    # Try form: one liveness check, as Go's TryLock.
                    self._take_over_if_dead(s)
                    return False
                if i < SPIN_ROUNDS or (i < SPIN_MAX_ROUNDS and time.monotonic() < spin_end):
                    # Yield before parking: a holder's critical section is
                    # usually shorter than a futex wake-up (a system call
                    # for the waker, a scheduling round trip for us).
                    if i == 0:
                        spin_end = time.monotonic() + SPIN_FOR
                    i += 1
                    os.sched_yield()
                    continue
                now = time.monotonic()
                left = None if deadline is None else deadline - now
                if left is not None and left <= 0:
                    self._give_up(parked)
                    return False
                if next_check is None:
                    next_check = now + OWNER_CHECK_EVERY
                elif now >= next_check:
                    next_check = now + OWNER_CHECK_EVERY
                    self._take_over_if_dead(s)
                if not s & WAITERS:
                    if at.cas64(self._addr, s, s | WAITERS) != s:
                        continue
                    s |= WAITERS
                parked = True
                wait = max(next_check - now, 0.001)
                if left is not None:
                    wait = min(wait, left)
                _futex.wait(self._addr, s & 0xFFFFFFFF, wait)
        except KeyboardInterrupt:
            self._give_up(parked)
            raise

    def _give_up(self, parked):
        # An unlock may have woken us (clearing the waiters bit) just as we
        # left: pass the wake-up on.
        if parked and self._w64 is not None and self._w64[self._i] & HOLDER == 0:
            _futex.wake(self._addr, 1)

    def release(self):
        """Unlock. NotOwner if another process holds it, RuntimeError if it is
        unlocked; releasing while inconsistent makes it not recoverable."""
        if at.cas64(self._addr, self._self, 0) == self._self:
            return
        while True:
            s = self._w64[self._i]
            self._check_word(s)
            holder = s & HOLDER
            if holder == 0:
                raise RuntimeError("multiproc: mutex %r: release of an unlocked lock" % self.name)
            if holder != self._self:
                raise NotOwner("multiproc: mutex %r: held by %#x" % (self.name, holder))
            nw = NOT_RECOVERABLE if s & INCONSISTENT else 0
            if at.cas64(self._addr, s, nw) != s:
                continue
            if s & WAITERS:
                _futex.wake(self._addr, 0x7FFFFFFF if nw else 1)
            return

    def mark_consistent(self):
        """After OwnerDead: declare the guarded data repaired."""
        while True:
            s = self._w64[self._i]
            self._check_word(s)
            if s & HOLDER != self._self:
                raise NotOwner("multiproc: mutex %r: mark consistent: not held by this process" % self.name)
            if not s & INCONSISTENT or at.cas64(self._addr, s, s & ~INCONSISTENT) == s:
                return

    def locked(self):
        return self._w64[self._i] & HOLDER != 0

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
