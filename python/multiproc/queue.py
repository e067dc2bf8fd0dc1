"""The byte queue of Go's ringqueue, from Python: MPMC and SPSC.

Layout and protocol are ringqueue's (LAYOUT.md; the Go code is the
contract), layout version 2. Offsets from the object's first byte:

      0  header     Magic u64, Version u32, Mode u32, Capacity u32,
                    SlotSize u32, Stride u32, Flags u32, SlotsOff u64,
                    AuxOff u64, AuxSize u64, Closed u32 (at 56)
    128  tail line  Tail u64; SPSC producer role (a 64-bit ID) at 136
    256  head line  Head u64; SPSC consumer role at 264
    384  wait       GetSeq u32, GetSleepers u32, Reclaimed u64;
                    PutSeq u32 at 448, PutSleepers u32 at 452
    512  slots      MPMC: Ctrl u64, Len u32, 4 zero, payload at 16
                    SPSC: Len u32, 4 zero, payload at 8

MPMC control word: bits 0..1 state (0 free, 1 writing, 2 full, 3
reading), bits 2..21 the claimant's short ID, bits 22..63 the lap. A claim
is a CAS on the slot word that names the claimant, so a claim whose
claimant died is told from a slow one: whoever has waited behind it for
CLAIM_CHECK_AFTER asks the participant table, and takes a dead producer's
claim over and publishes it skipped (Len 0xFFFFFFFF), or frees a dead
consumer's claim. A message is whole or absent.

SPSC: Tail counts messages published (bit 63: closed), Head messages
consumed; the producer writes then CASes Tail (one CAS per batch), the
consumer reads then stores Head. Roles are IDs in the index lines.

Interrupts. Python raises KeyboardInterrupt between bytecodes, so it can
land between a claim and its publication. Every claim is therefore
guarded: on any exception a producer publishes its claims skipped and a
consumer frees (MPMC) or leaves unconsumed (SPSC) what it claimed, then
the exception propagates. Nothing is left claimed by a live process.

Costs (a ctypes call is 0.2-0.6 us here; loads and stores through the
memoryview are tens of ns): an SPSC put or get makes one call, an MPMC
one three; put_many / get_many make one (SPSC) call per batch, which is
what a Python pipeline should use.
"""

import os
import queue as _stdqueue
import struct
import time

from . import _atomics as at
from . import _futex
from ._gate import Gate, NOT_COUNTED
from .errors import Closed, Corrupt, RoleHeld, TooLarge, VersionMismatch
from .segment import KIND_QUEUE

Full = _stdqueue.Full
Empty = _stdqueue.Empty

MAGIC = 0x3176657575717_06D
LAYOUT_VERSION = 2
SLOTS_OFF = 512
MPMC, SPSC = 1, 2
MAX_CAPACITY = 1 << 30
MAX_SLOT_SIZE = 64 << 20
MAX_OBJECT = 1 << 40
SKIP_LEN = 0xFFFFFFFF
SPSC_CLOSED = 1 << 63
CLOSED_OFF = 56
TAIL_OFF, TAIL_ROLE_OFF = 128, 136
HEAD_OFF, HEAD_ROLE_OFF = 256, 264
GET_SEQ_OFF, RECLAIMED_OFF, PUT_SEQ_OFF = 384, 392, 448

ST_FREE, ST_WRITING, ST_FULL, ST_READING = 0, 1, 2, 3
TAG_SHIFT = 2
TAG_MASK = (1 << 20) - 1
LAP_SHIFT = 22
LAP_MASK = (1 << 42) - 1
_LAP_HALF = 1 << 41

# How long a claim blocks a waiter before its claimant is checked (Go's
# claimCheckAfter), and how long a blocked call spins (sched_yield) first.
CLAIM_CHECK_AFTER = 0.010
SPIN_FOR = 50e-6

_HEADER = struct.Struct("=QIIIIIIQQQI")


def _lap_diff(l, L):
    d = (l - L) & LAP_MASK
    return d - (1 << 42) if d >= _LAP_HALF else d


def _align(n, a):
    return (n + a - 1) & ~(a - 1)


def _validate(mv, off, size):
    if size < SLOTS_OFF:
        raise Corrupt("queue object of %d bytes, shorter than its %d-byte header" % (size, SLOTS_OFF))
    (magic, version, mode, cap, slot, stride, flags, slots_off, aux_off, aux_size,
     closed) = _HEADER.unpack_from(bytes(mv[off:off + _HEADER.size]))
    if magic != MAGIC:
        raise Corrupt("bad queue magic %#x" % magic)
    if version != LAYOUT_VERSION:
        raise VersionMismatch("queue layout %d, this package reads %d" % (version, LAYOUT_VERSION))
    if mode not in (MPMC, SPSC):
        raise Corrupt("queue mode %d" % mode)
    if cap == 0 or cap > MAX_CAPACITY or cap & (cap - 1):
        raise Corrupt("queue capacity %d is not a power of two in 1..%d" % (cap, MAX_CAPACITY))
    if slot == 0 or slot > MAX_SLOT_SIZE:
        raise Corrupt("queue slot size %d" % slot)
    if flags:
        raise Corrupt("queue flags %#x set" % flags)
    if closed > 1:
        raise Corrupt("queue closed word %d" % closed)
    if aux_size > 1 << 30:
        raise Corrupt("queue aux size %d" % aux_size)
    hdr = 8 if mode == SPSC else 16
    want_stride = hdr + _align(slot, 8)
    end = SLOTS_OFF + cap * want_stride
    want_aux = 0
    if aux_size:
        want_aux = _align(end, 64)
        end = want_aux + aux_size
    if end > MAX_OBJECT:
        raise Corrupt("queue of %d bytes" % end)
    if stride != want_stride or slots_off != SLOTS_OFF or aux_off != want_aux:
        raise Corrupt("queue stride/slots/aux at %d/%d/%d, want %d/%d/%d"
                      % (stride, slots_off, aux_off, want_stride, SLOTS_OFF, want_aux))
    if end > size:
        raise Corrupt("%d slots of %d bytes need %d bytes, the object has %d" % (cap, slot, end, size))
    return mode, cap, slot, stride, hdr


class Queue:
    """A handle on a ringqueue.Queue (or a raw Typed[T] queue) made by Go.

    put/get follow queue.Queue: block and timeout, put_nowait/get_nowait,
    queue.Full and queue.Empty. Messages are bytes (at most slot_size);
    with typ (a ctypes type, see layout.py) the queue must be Go's
    Typed[T] of the same layout, and messages are typ instances.
    Closed is raised by a put on a closed queue and by a get on a closed,
    drained one. A handle belongs to one thread at a time.
    """

    def __init__(self, seg, name, typ=None):
        from .layout import go_layout  # (typed queues only)
        self._seg = seg
        self.name = name
        self._typ = typ
        elem, fp = (0, 0)
        if typ is not None:
            elem, fp = go_layout(typ)
        e = seg.open_object(name, KIND_QUEUE, elem, fp)
        try:
            mode, cap, slot, stride, hdr = _validate(seg.mv, e.offset, e.size)
        except (Corrupt, VersionMismatch) as ex:
            raise type(ex)("multiproc: queue %r: %s" % (name, ex)) from None
        self.mode, self.capacity, self.slot_size = mode, cap, slot
        self._stride, self._hdr = stride, hdr
        self._mask = cap - 1
        self._shift = cap.bit_length() - 1
        o = e.offset
        self._o = o
        self._base = seg.base
        self._slots = o + SLOTS_OFF
        self._tail_i = (o + TAIL_OFF) >> 3
        self._head_i = (o + HEAD_OFF) >> 3
        self._tail_a = seg.base + o + TAIL_OFF
        self._head_a = seg.base + o + HEAD_OFF
        self._closed_i = (o + CLOSED_OFF) >> 2
        self._get_gate = Gate(seg, o + GET_SEQ_OFF)
        self._put_gate = Gate(seg, o + PUT_SEQ_OFF)
        self._self = seg.self_id & TAG_MASK
        self._id = seg.self_id
        self._prod_role = self._cons_role = False
        self._prod_cached = self._cons_cached = 0
        self._dead = None  # (short, stamp) of the last claimant found dead
        self._bind()
        seg._track(self)

    def _bind(self):
        seg = self._seg
        self._mv, self._w64, self._w32 = seg.mv, seg.w64, seg.w32

    def _detach_views(self):
        self._prod_role = self._cons_role = False  # (the fast paths test these first)
        self._mv = self._w64 = self._w32 = None

    def _check(self):
        if self._w64 is None:
            raise Closed("multiproc: queue %r: detached" % self.name)

    # --- state ---------------------------------------------------------

    def _closed(self):
        return self._w32[self._closed_i] != 0

    def qsize(self):
        """Messages queued or being written or read right now (a snapshot)."""
        self._check()
        head = self._w64[self._head_i]
        tail = self._w64[self._tail_i]
        if self.mode == SPSC:
            tail &= ~SPSC_CLOSED
        d = (tail - head) & at.MASK64
        if d >= 1 << 63:
            d = 0
        return min(d, self.capacity)

    def empty(self):
        return self.qsize() == 0

    def full(self):
        return self.qsize() >= self.capacity

    @property
    def closed(self):
        self._check()
        return self._closed()

    def close(self):
        """Close the queue for every process (Go's Queue.Close): later puts
        raise Closed, gets drain what was put, then raise Closed."""
        self._check()
        at.xchg32(self._seg.base + (self._closed_i << 2), 1)
        if self.mode == SPSC:
            while True:
                t = self._w64[self._tail_i]
                if t & SPSC_CLOSED or at.cas64(self._tail_a, t, t | SPSC_CLOSED) == t:
                    break
        self._get_gate.signal_all()
        self._put_gate.signal_all()

    def detach(self):
        """Give up this handle: SPSC roles it holds pass to the next process."""
        if self._w64 is None:
            return
        if self.mode == SPSC:
            if self._prod_role:
                at.cas64(self._base + self._o + TAIL_ROLE_OFF, self._id, 0)
            if self._cons_role:
                at.cas64(self._base + self._o + HEAD_ROLE_OFF, self._id, 0)
        self._detach_views()

    # --- messages in and out -------------------------------------------

    def _encode(self, msg):
        if self._typ is not None and not isinstance(msg, (bytes, bytearray, memoryview)):
            msg = bytes(msg)
        if len(msg) > self.slot_size:
            raise TooLarge("multiproc: queue %r: message of %d bytes, slot size %d" % (self.name, len(msg), self.slot_size))
        return msg

    def _decode(self, b):
        if self._typ is not None:
            if len(b) != self.slot_size and not (self.slot_size == 1 and len(b) == 0):
                raise Corrupt("multiproc: queue %r: message of %d bytes for a %d-byte type" % (self.name, len(b), self.slot_size))
            return self._typ.from_buffer_copy(b)
        return b

    def put(self, msg, block=True, timeout=None):
        """Put msg (bytes-like, or a typ instance), waiting while full unless
        block is False; timeout in seconds bounds the wait (queue.Full)."""
        if self._prod_role and type(msg) is bytes and len(msg) <= self.slot_size:
            # SPSC's common case in one piece: role held, room known from
            # the cached Head, queue open (a closed Tail makes t - cached
            # huge). Nothing is claimed before the CAS publishes.
            t = self._w64[self._tail_i]
            if t - self._prod_cached < self.capacity:
                s = self._slots + (t & self._mask) * self._stride
                n = len(msg)
                self._w32[s >> 2] = n
                self._mv[s + 8:s + 8 + n] = msg
                if at.cas64(self._tail_a, t, t + 1) == t:
                    g = self._get_gate
                    if self._w32[g.sl_i] & 0xFFFF:
                        g.wake(1)
                    return
        self._check()
        msg = self._encode(msg)
        if self.mode == SPSC:
            self._put_batch_spsc([msg], block, timeout)
            return
        pos = self._claim(self._try_claim_put, self._put_gate, block, timeout, Full)
        try:
            s = self._slots + (pos & self._mask) * self._stride
            n = len(msg)
            self._w32[(s + 8) >> 2] = n
            self._mv[s + 16:s + 16 + n] = msg
            L = (pos >> self._shift) & LAP_MASK
            mine = L << LAP_SHIFT | self._self << TAG_SHIFT | ST_WRITING
            if at.cas64(self._base + s, mine, L << LAP_SHIFT | ST_FULL) != mine:
                raise Corrupt("multiproc: queue %r: put: claim no longer held" % self.name)
            pos = None
        finally:
            if pos is not None:  # interrupted between claim and publication
                self._mpmc_skip(pos)
                self._get_gate.signal_all()
        self._get_gate.signal(1)

    def put_nowait(self, msg):
        self.put(msg, block=False)

    def get(self, block=True, timeout=None):
        """Remove and return the next message, waiting while empty unless
        block is False; timeout in seconds bounds the wait (queue.Empty).
        Raises Closed once the queue is closed and drained."""
        if self._cons_role and self._typ is None:
            # SPSC's common case: role held, a message known from the cached Tail.
            h = self._w64[self._head_i]
            if (self._cons_cached - h - 1) & at.MASK64 < self.capacity:
                s = self._slots + (h & self._mask) * self._stride
                n = self._w32[s >> 2]
                if n <= self.slot_size:
                    msg = bytes(self._mv[s + 8:s + 8 + n])
                    at.xchg64(self._head_a, h + 1)  # a store ordered before the sleepers load
                    g = self._put_gate
                    if self._w32[g.sl_i] & 0xFFFF:
                        g.wake(1)
                    return msg
        self._check()
        if self.mode == SPSC:
            out = []
            self._get_batch_spsc(1, block, timeout, out.append, True)
            return out[0]
        while True:
            pos = self._claim(self._try_claim_get, self._get_gate, block, timeout, Empty)
            s = self._slots + (pos & self._mask) * self._stride
            L = (pos >> self._shift) & LAP_MASK
            try:
                n = self._w32[(s + 8) >> 2]
                msg = None
                if n != SKIP_LEN:
                    if n > self.slot_size:
                        raise Corrupt("multiproc: queue %r: message %d: length %d > slot size %d"
                                      % (self.name, pos, n, self.slot_size))
                    msg = bytes(self._mv[s + 16:s + 16 + n])
            finally:
                mine = L << LAP_SHIFT | self._self << TAG_SHIFT | ST_READING
                at.cas64(self._base + s, mine, ((L + 1) & LAP_MASK) << LAP_SHIFT | ST_FREE)
                self._put_gate.signal(1)
            if msg is not None:
                return self._decode(msg)

    def get_nowait(self):
        return self.get(block=False)

    def put_many(self, msgs, block=True, timeout=None):
        """Put every message of the sequence msgs, in order, waiting for room
        as put does. SPSC publishes each run of free slots with one CAS."""
        self._check()
        msgs = [self._encode(m) for m in msgs]
        if self.mode == SPSC:
            self._put_batch_spsc(msgs, block, timeout)
        else:
            for m in msgs:
                self.put(m, block, timeout)

    def get_many(self, max_n, block=True, timeout=None, fn=None):
        """Take up to max_n messages (at least one, waiting as get does) and
        return them as a list. With fn, call fn(memoryview) for each
        instead and return how many; on an SPSC queue the view is the slot
        itself (zero copy), valid only during the call, since the slot is
        handed back afterwards; MPMC hands a copy."""
        self._check()
        out = []
        if self.mode == SPSC:
            n = self._get_batch_spsc(max_n, block, timeout, out.append if fn is None else fn, fn is None)
            return out if fn is None else n
        first = self.get(block, timeout)
        out.append(first)
        while len(out) < max_n:
            try:
                out.append(self.get(False))
            except (Empty, Closed):
                break
        if fn is None:
            return out
        for m in out:
            fn(memoryview(bytes(m)))
        return len(out)

    # --- waiting ---------------------------------------------------------

    def _claim(self, try_fn, gate, block, timeout, exc):
        """Run try_fn (-> (position or None, blocker word address, word)) until
        it claims, spinning, then parking on gate."""
        pos, b = try_fn()
        if pos is not None:
            return pos
        if not block or (timeout is not None and timeout <= 0):
            if b is not None and self._may_reclaim(b, None):
                pos, b = try_fn()
                if pos is not None:
                    return pos
            raise exc()
        return self._await(try_fn, gate, timeout, exc)

    def _await(self, try_fn, gate, timeout, exc):
        now = time.monotonic()
        deadline = None if timeout is None else now + timeout
        spin_end = now + SPIN_FOR
        while time.monotonic() < spin_end:
            os.sched_yield()
            pos, b = try_fn()
            if pos is not None:
                return pos
        watch = [None, 0.0, 0.0]  # word, since, last checked
        w32 = self._w32
        while True:
            seq = w32[gate.seq_i]
            epoch = gate.register()
            slept = False
            try:
                pos, b = try_fn()
                if pos is not None:
                    return pos
                now = time.monotonic()
                wait = None if deadline is None else deadline - now
                if wait is not None and wait <= 0:
                    raise exc()
                if b is not None:
                    if self._may_reclaim(b, (watch, now)):
                        continue
                    wait = CLAIM_CHECK_AFTER if wait is None else min(wait, CLAIM_CHECK_AFTER)
                elif epoch == NOT_COUNTED:
                    wait = CLAIM_CHECK_AFTER if wait is None else min(wait, CLAIM_CHECK_AFTER)
                slept = True
                _futex.wait(gate.seq_addr, seq, wait)
                slept = False
            finally:
                gate.unregister(epoch)
                if slept and w32 is not None and self._w32 is not None and w32[gate.seq_i] != seq:
                    gate.signal(1)  # interrupted: pass on a wake-up we may have absorbed

    # --- MPMC ------------------------------------------------------------

    def _try_claim_put(self):
        w64, base = self._w64, self._base
        if self._closed():
            raise Closed("multiproc: queue %r: put: closed" % self.name)
        while True:
            pos = w64[self._tail_i]
            s = self._slots + (pos & self._mask) * self._stride
            c = w64[s >> 3]
            L = (pos >> self._shift) & LAP_MASK
            d = _lap_diff(c >> LAP_SHIFT, L)
            st = c & 3
            if d == 0 and st == ST_FREE:
                mine = L << LAP_SHIFT | self._self << TAG_SHIFT | ST_WRITING
                if at.cas64(base + s, c, mine) != c:
                    continue
                try:
                    at.cas64(self._tail_a, pos, (pos + 1) & at.MASK64)
                    if self._closed():
                        self._mpmc_skip(pos)
                        self._get_gate.signal_all()
                        pos = None
                        raise Closed("multiproc: queue %r: put: closed" % self.name)
                except BaseException:
                    if pos is not None:
                        self._mpmc_skip(pos)
                    raise
                return pos, None
            if d == 0 or (d == 1 and st == ST_FREE):
                at.cas64(self._tail_a, pos, (pos + 1) & at.MASK64)
            elif d == -1:
                if st in (ST_WRITING, ST_READING):
                    return None, (s, c)
                return None, None
            elif w64[self._tail_i] == pos:
                raise Corrupt("multiproc: queue %r: put: slot word %#x at position %d" % (self.name, c, pos))

    def _mpmc_skip(self, pos):
        s = self._slots + (pos & self._mask) * self._stride
        L = (pos >> self._shift) & LAP_MASK
        mine = L << LAP_SHIFT | self._self << TAG_SHIFT | ST_WRITING
        if self._w64[s >> 3] != mine:
            return
        self._w32[(s + 8) >> 2] = SKIP_LEN
        at.cas64(self._base + s, mine, L << LAP_SHIFT | ST_FULL)

    def _try_claim_get(self):
        pos, b = self._try_claim_get1()
        if pos is not None or b is not None or not self._closed():
            return pos, b
        # Empty and closed: look once more, after having seen Closed, so
        # that a producer that claimed before Close is seen.
        pos, b = self._try_claim_get1()
        if pos is None and b is None:
            raise Closed("multiproc: queue %r: get: closed" % self.name)
        return pos, b

    def _try_claim_get1(self):
        w64, base = self._w64, self._base
        while True:
            pos = w64[self._head_i]
            s = self._slots + (pos & self._mask) * self._stride
            c = w64[s >> 3]
            L = (pos >> self._shift) & LAP_MASK
            d = _lap_diff(c >> LAP_SHIFT, L)
            st = c & 3
            if d == 0 and st == ST_FULL:
                mine = L << LAP_SHIFT | self._self << TAG_SHIFT | ST_READING
                if at.cas64(base + s, c, mine) != c:
                    continue
                at.cas64(self._head_a, pos, (pos + 1) & at.MASK64)
                return pos, None
            if (d == 0 and st == ST_READING) or (d == 1 and st != ST_READING):
                at.cas64(self._head_a, pos, (pos + 1) & at.MASK64)
            elif d == 0 and st == ST_WRITING:
                return None, (s, c)
            elif d == 0 or d == -1:
                return None, None
            elif w64[self._head_i] == pos:
                raise Corrupt("multiproc: queue %r: get: slot word %#x at position %d" % (self.name, c, pos))

    # --- crash recovery (Go's recover.go) ---------------------------------

    def _known_dead(self, c):
        t = (c >> TAG_SHIFT) & TAG_MASK
        v = self._dead
        return t != 0 and v is not None and v[0] == t and self._seg.stamp(t) == v[1]

    def _may_reclaim(self, b, watch_now):
        """Reclaim blocker b if its claimant is known dead or (watch_now given)
        has blocked for CLAIM_CHECK_AFTER and is dead; watch_now None: the
        _nowait forms, which check at once."""
        s, c = b
        if self._known_dead(c):
            return self._reclaim(s, c)
        if watch_now is not None:
            watch, now = watch_now
            if watch[0] != c:
                watch[0], watch[1], watch[2] = c, now, 0.0
                return False
            if now - watch[1] < CLAIM_CHECK_AFTER or now - watch[2] < CLAIM_CHECK_AFTER:
                return False
            watch[2] = now
        return self._reclaim(s, c)

    def _reclaim(self, s, c):
        tag = (c >> TAG_SHIFT) & TAG_MASK
        if tag == self._self:
            return False
        seg = self._seg
        if not self._known_dead(c):
            stamp = seg.stamp(tag)
            if seg.alive_short(tag) or seg.stamp(tag) != stamp:
                return False
            self._dead = (tag, stamp)
        lap = c >> LAP_SHIFT
        st = c & 3
        addr = self._base + s
        if st == ST_WRITING:
            mine = lap << LAP_SHIFT | self._self << TAG_SHIFT | ST_WRITING
            if at.cas64(addr, c, mine) != c:
                return True
            self._w32[(s + 8) >> 2] = SKIP_LEN
            at.cas64(addr, mine, lap << LAP_SHIFT | ST_FULL)
        elif st == ST_READING:
            if at.cas64(addr, c, ((lap + 1) & LAP_MASK) << LAP_SHIFT | ST_FREE) != c:
                return True
        else:
            return True
        at.add64(self._base + self._o + RECLAIMED_OFF, 1)
        self._get_gate.signal_all()
        self._put_gate.signal_all()
        return True

    # --- SPSC ------------------------------------------------------------

    def _acquire(self, role_off, other_i, op):
        addr = self._base + self._o + role_off
        i = (self._o + role_off) >> 3
        while True:
            r = self._w64[i]
            if r == self._id:
                break
            if r == 0 or not self._seg.alive(r):
                if at.cas64(addr, r, self._id) != r:
                    continue
                break
            raise RoleHeld("multiproc: queue %r: %s: role held by live participant %#x" % (self.name, op, r))
        return self._w64[other_i] & ~SPSC_CLOSED

    def _put_batch_spsc(self, msgs, block, timeout):
        if not self._prod_role:
            self._prod_cached = self._acquire(TAIL_ROLE_OFF, self._head_i, "put")
            self._prod_role = True
        w64, w32, mv = self._w64, self._w32, self._mv
        cap, mask, stride, slots = self.capacity, self._mask, self._stride, self._slots
        i, total = 0, len(msgs)
        deadline = None if timeout is None else time.monotonic() + timeout
        while i < total:
            t = w64[self._tail_i]
            if t & SPSC_CLOSED:
                raise Closed("multiproc: queue %r: put: closed" % self.name)
            room = cap - (t - self._prod_cached)
            if room < total - i:
                self._prod_cached = w64[self._head_i]
                room = cap - (t - self._prod_cached)
            if room <= 0:
                if not block:
                    raise Full()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise Full()
                self._claim(self._spsc_room, self._put_gate, True, left, Full)
                continue
            k = min(room, total - i)
            p = t
            for m in msgs[i:i + k]:
                s = slots + (p & mask) * stride
                n = len(m)
                w32[s >> 2] = n
                mv[s + 8:s + 8 + n] = m
                p += 1
            if at.cas64(self._tail_a, t, t + k) != t:
                if w64[self._tail_i] & SPSC_CLOSED:
                    raise Closed("multiproc: queue %r: put: closed" % self.name)
                self._prod_role = False
                raise RoleHeld("multiproc: queue %r: put: the producer role was taken over" % self.name)
            i += k
            self._get_gate.signal(k)

    def _spsc_room(self):
        t = self._w64[self._tail_i]
        if t & SPSC_CLOSED:
            raise Closed("multiproc: queue %r: put: closed" % self.name)
        self._prod_cached = self._w64[self._head_i]
        return (t if t - self._prod_cached < self.capacity else None), None

    def _spsc_avail(self):
        h = self._w64[self._head_i]
        t = self._w64[self._tail_i]
        self._cons_cached = t & ~SPSC_CLOSED
        if self._cons_cached != h:
            return h, None
        if t & SPSC_CLOSED:
            raise Closed("multiproc: queue %r: get: closed" % self.name)
        return None, None

    def _get_batch_spsc(self, max_n, block, timeout, fn, copy):
        if not self._cons_role:
            self._cons_cached = self._acquire(HEAD_ROLE_OFF, self._tail_i, "get")
            self._cons_role = True
        w64, w32, mv = self._w64, self._w32, self._mv
        h = w64[self._head_i]
        avail = (self._cons_cached - h) & at.MASK64
        if avail == 0 or avail > self.capacity:
            self._claim(self._spsc_avail, self._get_gate, block, timeout, Empty)
            avail = min((self._cons_cached - h) & at.MASK64, self.capacity)
        k = min(avail, max_n)
        mask, stride, slots, slot_size = self._mask, self._stride, self._slots, self.slot_size
        p = h
        try:
            for _ in range(k):
                s = slots + (p & mask) * stride
                n = w32[s >> 2]
                if n > slot_size:
                    p += 1  # consumed, not delivered: one bad message must not wedge the queue
                    raise Corrupt("multiproc: queue %r: message %d: length %d > slot size %d"
                                  % (self.name, p, n, slot_size))
                if copy:
                    fn(self._decode(bytes(mv[s + 8:s + 8 + n])))
                else:
                    fn(mv[s + 8:s + 8 + n])
                p += 1
        finally:
            if p != h:
                at.xchg64(self._head_a, p)  # a store ordered before the sleepers load
                self._put_gate.signal(p - h)
        return k
