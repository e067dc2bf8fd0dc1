"""The sleeper protocol of Go's internal/futex Gate, on the same two words.

Every blocking object of the Go module waits on one (the queue's two
sides, a semaphore's value, an event's flag), so this is the one sleeper
of the package too: Queue parks on it, and Gate.wait_until is the loop
that Event and Semaphore use.

A gate is a futex word (seq) and a sleepers word (bits 0..15 a count of
sleepers, bits 16..31 an epoch):

    sleeper: s = load(seq); register (count+1 by CAS, remember the epoch);
             re-check the condition; if still blocked futex_wait(seq, s);
             unregister (count-1 by CAS, only in the same epoch)
    waker:   change the queue; if count != 0: seq += 1; futex_wake(seq, n)

The CAS that registers and the waker's locked change of the ring are full
barriers (x86-64), so either the waker sees the count or the sleeper's
re-check sees the change; a seq bumped before the sleeper enters the
kernel makes futex_wait return at once. A waker whose wakes keep finding
nobody (64 in a row) repairs a count left by a killed sleeper: count 0 in
a new epoch, then seq += 1 and wake everyone, who register again.
"""

import os
import time

from . import _atomics as at
from . import _futex

COUNT_MASK = 0xFFFF
EPOCH_UNIT = 1 << 16
REPAIR_AFTER = 64
NOT_COUNTED = -1


class Gate:
    __slots__ = ("w32", "seq_addr", "sl_addr", "seq_i", "sl_i", "idle")

    def __init__(self, seg, seq_off, sleepers_off=None):
        """seq_off: the seq word's offset in the segment; the sleepers word
        is at sleepers_off (default: right after seq, as in the queue)."""
        if sleepers_off is None:
            sleepers_off = seq_off + 4
        self.w32 = seg.w32
        self.seq_addr = seg.base + seq_off
        self.sl_addr = seg.base + sleepers_off
        self.seq_i = seq_off >> 2
        self.sl_i = sleepers_off >> 2
        self.idle = 0

    def signal(self, n=1):
        if self.w32[self.sl_i] & COUNT_MASK:
            self.wake(n)

    def signal_all(self):
        self.signal(1 << 30)

    def wake(self, n):
        at.add32(self.seq_addr, 1)
        try:
            woke = _futex.wake(self.seq_addr, n)
        except OSError:
            woke = 1
        if woke > 0:
            self.idle = 0
            return
        self.idle += 1
        if self.idle >= REPAIR_AFTER:
            self.idle = 0
            self.repair()

    def repair(self):
        while True:
            w = self.w32[self.sl_i]
            if w & COUNT_MASK == 0:
                return
            nw = ((w & ~COUNT_MASK) + EPOCH_UNIT) & at.MASK32
            if at.cas32(self.sl_addr, w, nw) == w:
                break
        at.add32(self.seq_addr, 1)
        _futex.wake_all(self.seq_addr)

    def register(self):
        while True:
            w = self.w32[self.sl_i]
            if w & COUNT_MASK == COUNT_MASK:
                return NOT_COUNTED
            if at.cas32(self.sl_addr, w, w + 1) == w:
                return w >> 16

    def unregister(self, epoch):
        while True:
            w = self.w32[self.sl_i]
            if w >> 16 != epoch or w & COUNT_MASK == 0:
                return
            if at.cas32(self.sl_addr, w, w - 1) == w:
                return

    def seq(self):
        return self.w32[self.seq_i]

    def wait_until(self, ready, timeout=None, spin_rounds=8):
        """Call ready() until it returns True: a few sched_yield rounds,
        then park on seq (register, re-check, futex_wait, unregister). It
        returns False once timeout (s, None: none) passed. A sleeper that
        gives up (timeout, KeyboardInterrupt) after seq moved may have
        absorbed a wake-up meant for another, and passes one on.
        """
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        for _ in range(spin_rounds if timeout != 0 else 0):
            if ready():
                return True
            os.sched_yield()
        w32 = self.w32
        while True:
            seq = w32[self.seq_i]
            epoch = self.register()
            slept = False
            gave_up = True
            try:
                if ready():
                    gave_up = False
                    return True
                wait = None
                if deadline is not None:
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        return False
                if epoch == NOT_COUNTED:  # a full count: a waker may skip us
                    wait = 0.01 if wait is None else min(wait, 0.01)
                slept = True
                _futex.wait(self.seq_addr, seq, wait)
                gave_up = False
            finally:
                self.unregister(epoch)
                if slept and gave_up and w32[self.seq_i] != seq:
                    self.signal(1)  # pass on a wake-up we may have absorbed
