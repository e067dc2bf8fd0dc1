"""The participant table: who is attached to a segment, and whether they live.

The rules are Go's (shm/participant.go), word for word, because Go and
Python processes share the table:

An ID is (slot index in bits 0..9, generation in bits 10..51) and is never
handed to another process over the segment's life. Table slot i (1-based)
is two words at table_off + (i-1)*16:

    word A  generation<<22 | pid   (pid 0: free)
    word B  start time of the process A names (clock ticks since boot)

Joining: one CAS of A to (pid, generation+1) claims the slot (free slots
first, then slots whose occupant is dead), then B is stored with a CAS
that re-checks A before and after, so a claimer that lost the slot to a
second claimer never overwrites the second's B. A slot whose generation
reached its maximum is retired, never wrapped. Leaving stores pid 0 and
keeps the generation, so this process's IDs read as dead at once.

Liveness of (i, g): A still says generation g with a nonzero pid, B read
after A and A re-read after B, and /proc/pid/stat shows a running,
non-zombie process with start time B.
"""

import os

from . import _atomics as at
from .errors import TooManyParticipants

ID_INDEX_BITS = 10
ID_BITS = 52
SHORT_BITS = 20
IDX_MASK = (1 << ID_INDEX_BITS) - 1
ID_MASK = (1 << ID_BITS) - 1
SHORT_MASK = (1 << SHORT_BITS) - 1
PID_BITS = 22
PID_MASK = (1 << PID_BITS) - 1
GEN_SHIFT = PID_BITS
GEN_MAX = (1 << (ID_BITS - ID_INDEX_BITS)) - 1
ENTRY_SIZE = 16


def process_start(pid):
    """(start time in clock ticks, state letter) from /proc/pid/stat.
    The command name may hold spaces and parentheses: fields are counted
    from the last ')'. Raises OSError when the process is gone."""
    with open("/proc/%d/stat" % pid, "rb") as f:
        s = f.read()
    i = s.rfind(b")")
    f = s[i + 1:].split()
    if i < 0 or len(f) < 20 or len(f[0]) != 1:
        raise ValueError("multiproc: malformed /proc/%d/stat" % pid)
    return int(f[19]), f[0].decode()


def process_alive(pid, start):
    """Whether pid runs, is no zombie and started at start. Cannot tell
    (other errors than not-found): alive, never declare a live holder dead."""
    try:
        st, state = process_start(pid)
    except FileNotFoundError:
        try:
            os.kill(pid, 0)  # /proc may hide others' processes (hidepid)
            return True
        except PermissionError:
            return True
        except OSError:
            return False
    except (OSError, ValueError):
        return True
    return state not in ("Z", "X") and st == start


def short(id_):
    return id_ & SHORT_MASK


class Table:
    """This process's view of a segment's participant table."""

    def __init__(self, seg):
        self._seg = seg
        self.n = seg.participants
        self.self_id = 0

    def _a(self, i):
        return self._seg.table_off + (i - 1) * ENTRY_SIZE

    def load_a(self, i):
        return self._seg.w64[self._a(i) >> 3]

    def load_b(self, i):
        return self._seg.w64[(self._a(i) + 8) >> 3]

    def join(self):
        seg = self._seg
        pid = os.getpid()
        start, _ = process_start(pid)
        base = seg.base
        first = (at.add32(base + seg.NEXT_SLOT_OFF, 1) + 1) & at.MASK32  # Go's AddUint32 returns the new value
        for _attempt in range(64):
            lost = False
            for pas in (0, 1):
                for k in range(self.n):
                    i = (first + k) % self.n + 1
                    a = self.load_a(i)
                    gen = a >> GEN_SHIFT
                    if gen >= GEN_MAX:
                        continue
                    if (pas == 0 and a & PID_MASK != 0) or (pas == 1 and self._entry_alive(i, a)):
                        continue
                    mine = (pid & PID_MASK) | (gen + 1) << GEN_SHIFT
                    if at.cas64(base + self._a(i), a, mine) != a:
                        lost = True
                        continue
                    if self._store_start(i, mine, start):
                        self.self_id = i | (gen + 1) << ID_INDEX_BITS
                        return self.self_id
                    lost = True
            if not lost:
                break
        raise TooManyParticipants("multiproc: segment %r: no free participant slot" % seg.name)

    def _store_start(self, i, mine, start):
        addr_b = self._seg.base + self._a(i) + 8
        while True:
            b = self.load_b(i)
            if self.load_a(i) != mine:
                return False
            if at.cas64(addr_b, b, start) == b:
                return self.load_a(i) == mine

    def leave(self):
        i = self.self_id & IDX_MASK
        if i == 0 or i > self.n:
            return
        a = self.load_a(i)
        if a >> GEN_SHIFT == self.self_id >> ID_INDEX_BITS and a & PID_MASK == os.getpid() & PID_MASK:
            at.cas64(self._seg.base + self._a(i), a, a & ~PID_MASK)
        self.self_id = 0

    def _entry_alive(self, i, a):
        pid = a & PID_MASK
        if pid == 0:
            return False
        start = self.load_b(i)
        if self.load_a(i) != a:
            return False
        return process_alive(pid, start)

    def alive(self, id_):
        """Whether the participant id is attached and its process runs.
        An ID read from shared memory is input: a malformed one is dead."""
        if id_ != 0 and id_ == self.self_id:
            return True
        i = id_ & IDX_MASK
        if id_ & ~ID_MASK or i == 0 or i > self.n:
            return False
        a = self.load_a(i)
        return a >> GEN_SHIFT == id_ >> ID_INDEX_BITS and self._entry_alive(i, a)

    def alive_short(self, sh):
        """Whether a live participant could bear the short form sh (True may
        be a collision with a newer occupant; it never lets a live claim go)."""
        if sh != 0 and sh == short(self.self_id):
            return True
        i = sh & IDX_MASK
        if sh & ~SHORT_MASK or i == 0 or i > self.n:
            return False
        a = self.load_a(i)
        return short(i | (a >> GEN_SHIFT) << ID_INDEX_BITS) == sh and self._entry_alive(i, a)

    def stamp(self, id_):
        i = id_ & IDX_MASK
        if i == 0 or i > self.n:
            return 0
        return self.load_a(i)
