"""Opening a segment made by Go: validation, the directory, attach and leave.

The byte layout is Go's shm/layout.go, version 3 (host byte order):

    0    header        256 bytes (the first 136 immutable and checksummed)
    256  participants  16-byte entries (participants.py)
         directory     128-byte entries
         heap          objects, 64-byte aligned

Validation follows shm/validate.go, in its order: magic (else NotSegment),
length, version, checksum (FNV-1a of the first 128 bytes), size against
the mapping, table and directory counts, geometry, heap bounds, reserved
words; then the pid namespace. The header is copied once and only the
copy is checked and used: another process can write the mapping at any
moment.
"""

import atexit
import ctypes
import mmap
import os
import re
import struct
import weakref

from . import _atomics as at
from .errors import (Corrupt, KindMismatch, NotFound, NotSegment, PidNamespace,
                     TypeMismatch, VersionMismatch, Closed)
from .participants import Table

DIR = "/dev/shm"
MAGIC = 0x47455348_53504D4D
LAYOUT_VERSION = 3
HEADER_SIZE = 256
CACHE_LINE = 64
DIR_ENTRY_SIZE = 128
MAX_NAME_LEN = 80
OBJECT_ALIGN = 64
MAX_DIR_ENTRIES = 1 << 16
MAX_PARTICIPANTS = (1 << 10) - 1
TABLE_ENTRY_SIZE = 16

# Directory entry states and the object kinds of shm/kind.go.
ENTRY_READY = 2
KIND_BYTES, KIND_MUTEX, KIND_RLOCK, KIND_SEMAPHORE, KIND_CONDITION, KIND_EVENT, \
    KIND_BARRIER, KIND_VALUE, KIND_ARRAY, KIND_QUEUE, KIND_JOINABLE_QUEUE, KIND_PIPE, \
    KIND_POOL = range(1, 14)
KIND_NAMES = {1: "bytes", 2: "mutex", 3: "rlock", 4: "semaphore", 5: "condition", 6: "event",
              7: "barrier", 8: "value", 9: "array", 10: "queue", 11: "joinable-queue",
              12: "pipe", 13: "pool"}
# Per-kind layout versions this package reads (shm/kind.go kindVersions):
# version 2 of the semaphore kinds and the joinable queue is the one where
# they wait on a gate (futex.Gate: a seq word and an epoch|count sleepers word).
KIND_VERSIONS = {k: 1 for k in KIND_NAMES}
KIND_VERSIONS.update({KIND_SEMAPHORE: 2, KIND_CONDITION: 2, KIND_EVENT: 2, KIND_BARRIER: 2,
                      KIND_JOINABLE_QUEUE: 2})

# header: Magic Q, Version I, Flags I, Size Q, ID 16s, CreatorPid I,
# Participants I, CreatorStart Q, CreatedNano q, TableOff Q, DirOff Q,
# DirEntries I, pad I, HeapOff Q, PidNS Q, Reserved 3Q, Checksum Q
_HEADER = struct.Struct("=QIIQ16sIIQqQQIIQQ3QQ")
assert _HEADER.size == 136
# entry: State I, Kind I, ElemSize I, NameLen H, Version H, Owner Q, Off Q,
# Size Q, Fingerprint Q, Name 80s
_ENTRY = struct.Struct("=IIIHHQQQQ80s")
assert _ENTRY.size == DIR_ENTRY_SIZE

_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _align_up(n, a):
    return (n + a - 1) & ~(a - 1)


def _geometry(participants, dir_entries):
    table = HEADER_SIZE
    d = _align_up(table + participants * TABLE_ENTRY_SIZE, CACHE_LINE)
    heap = _align_up(d + dir_entries * DIR_ENTRY_SIZE, OBJECT_ALIGN)
    return table, d, heap


def pid_namespace():
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def validate(mem):
    """Check a segment's header in the bytes-like mem and return it as a
    dict. Raises NotSegment, Corrupt or VersionMismatch; never reads
    outside mem."""
    n = len(mem)
    if n < 8 or struct.unpack_from("=Q", mem, 0)[0] != MAGIC:
        raise NotSegment("multiproc: not a multiproc segment (bad magic)")
    if n < HEADER_SIZE:
        raise Corrupt("multiproc: %d bytes, shorter than a header" % n)
    raw = bytes(mem[:HEADER_SIZE])  # one copy: checked and used
    f = _HEADER.unpack_from(raw, 0)
    (magic, version, flags, size, sid, creator_pid, participants, creator_start, created,
     table_off, dir_off, dir_entries, _pad, heap_off, pidns, r0, r1, r2, checksum) = f
    if version != LAYOUT_VERSION:
        raise VersionMismatch("multiproc: segment layout %d, this package reads %d" % (version, LAYOUT_VERSION))
    if fnv1a64(raw[:128]) != checksum:
        raise Corrupt("multiproc: header checksum %#x, want %#x" % (checksum, fnv1a64(raw[:128])))
    if size != n:
        raise Corrupt("multiproc: header says %d bytes, mapping has %d (truncated?)" % (size, n))
    if participants == 0 or participants > MAX_PARTICIPANTS:
        raise Corrupt("multiproc: %d participants" % participants)
    if dir_entries == 0 or dir_entries > MAX_DIR_ENTRIES:
        raise Corrupt("multiproc: %d directory entries" % dir_entries)
    g = _geometry(participants, dir_entries)
    if (table_off, dir_off, heap_off) != g:
        raise Corrupt("multiproc: table/directory/heap at %d/%d/%d, want %d/%d/%d"
                      % ((table_off, dir_off, heap_off) + g))
    if heap_off > size:
        raise Corrupt("multiproc: heap starts at %d past the end %d" % (heap_off, size))
    if size % 8:
        raise Corrupt("multiproc: segment of %d bytes, not a multiple of 8" % size)
    if (r0, r1, r2) != (0, 0, 0):
        raise Corrupt("multiproc: reserved header words are set")
    return dict(version=version, flags=flags, size=size, id=sid.hex(), creator_pid=creator_pid,
                participants=participants, table_off=table_off, dir_off=dir_off,
                dir_entries=dir_entries, heap_off=heap_off, pidns=pidns)


class Entry:
    """A ready directory entry, validated against the heap's bounds."""
    __slots__ = ("name", "kind", "version", "offset", "size", "elem_size", "fingerprint")

    def __init__(self, name, kind, version, offset, size, elem_size, fingerprint):
        self.name, self.kind, self.version = name, kind, version
        self.offset, self.size, self.elem_size, self.fingerprint = offset, size, elem_size, fingerprint

    def __repr__(self):
        return "Entry(%r, %s, off=%d, size=%d)" % (self.name, KIND_NAMES.get(self.kind, self.kind),
                                                   self.offset, self.size)


_open_segments = weakref.WeakSet()


@atexit.register
def _leave_all():
    # A process that ends normally gives its entries back, as Go's LeaveAll.
    for s in list(_open_segments):
        try:
            s.close()
        except Exception:
            pass


class Segment:
    """A named segment in /dev/shm, attached: this process holds a slot of its
    participant table until close() (or a normal exit)."""

    NEXT_SLOT_OFF = 208  # header.NextSlot

    def __init__(self, name):
        if not _NAME_RE.match(name) or name in (".", ".."):
            raise ValueError("multiproc: invalid segment name %r" % name)
        self.name = name
        path = os.path.join(DIR, name)
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound("multiproc: segment %r: not found" % name) from None
        try:
            st = os.fstat(fd)
            if st.st_size < 8:
                raise NotSegment("multiproc: segment %r: not a multiproc segment (%d bytes)" % (name, st.st_size))
            self._mm = mmap.mmap(fd, st.st_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self._objects = []
        try:
            h = validate(self._mm)
            if h["pidns"] != pid_namespace():
                raise PidNamespace("multiproc: segment %r created in pid namespace %d, this process is in %d"
                                   % (name, h["pidns"], pid_namespace()))
        except BaseException:
            self._mm.close()
            raise
        self.header = h
        self.size = h["size"]
        self.participants = h["participants"]
        self.table_off, self.dir_off, self.heap_off = h["table_off"], h["dir_off"], h["heap_off"]
        self.dir_entries = h["dir_entries"]
        self._anchor = ctypes.c_char.from_buffer(self._mm)
        self.base = ctypes.addressof(self._anchor)
        self.mv = memoryview(self._mm)
        self.w64 = self.mv.cast("Q")  # size is page-rounded: a multiple of 8
        self.w32 = self.mv.cast("I")
        self.table = Table(self)
        try:
            self.self_id = self.table.join()
        except BaseException:
            self._release()
            raise
        _open_segments.add(self)

    # context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def closed(self):
        return self._mm is None

    def check(self):
        if self._mm is None:
            raise Closed("multiproc: segment %r is closed" % self.name)

    def close(self):
        """Leave the participant table and unmap. Objects opened from this
        segment must not be used afterwards (they are detached first)."""
        if self._mm is None:
            return
        for o in list(self._objects):
            try:
                o._detach_views()
            except Exception:
                pass
        self.table.leave()
        _open_segments.discard(self)
        self._release()

    def _release(self):
        for v in ("w64", "w32", "mv"):
            x = getattr(self, v, None)
            if x is not None:
                x.release()
                setattr(self, v, None)
        self._anchor = None
        try:
            self._mm.close()
        except BufferError:
            pass  # a ctypes view (Array.view) is still referenced: unmapped when it is collected
        self._mm = None

    # --- directory -------------------------------------------------------

    def lookup(self, name):
        """The ready object named name, its entry checked against the heap."""
        self.check()
        want = name.encode()
        for i in range(self.dir_entries):
            off = self.dir_off + i * DIR_ENTRY_SIZE
            if self.w32[off >> 2] != ENTRY_READY:
                continue
            raw = bytes(self.mv[off:off + DIR_ENTRY_SIZE])  # one copy: checked and used
            _st, kind, elem, nlen, ver, _owner, o, sz, fp, nm = _ENTRY.unpack(raw)
            if nlen == 0 or nlen > MAX_NAME_LEN or nm[:nlen] != want:
                continue
            if kind not in KIND_NAMES:
                raise Corrupt("multiproc: object %r: directory entry of unknown kind %d" % (name, kind))
            end = o + sz
            if o < self.heap_off or end > self.size or o % OBJECT_ALIGN:
                raise Corrupt("multiproc: object %r at [%d,+%d) outside the heap [%d,%d)"
                              % (name, o, sz, self.heap_off, self.size))
            return Entry(name, kind, ver, o, sz, elem, fp)
        raise NotFound("multiproc: object %r: not found" % name)

    def objects(self):
        out = []
        for i in range(self.dir_entries):
            off = self.dir_off + i * DIR_ENTRY_SIZE
            if self.w32[off >> 2] != ENTRY_READY:
                continue
            nlen = struct.unpack_from("=H", self.mv, off + 12)[0]
            if 0 < nlen <= MAX_NAME_LEN:
                try:
                    out.append(self.lookup(bytes(self.mv[off + 48:off + 48 + nlen]).decode()))
                except Exception:
                    pass
        return out

    def open_object(self, name, kind, elem_size=0, fingerprint=0):
        """lookup, then kind, kind layout version, element size and
        fingerprint checked as Go's OpenObject does."""
        e = self.lookup(name)
        if e.kind != kind:
            raise KindMismatch("multiproc: object %r: it is a %s, not a %s"
                               % (name, KIND_NAMES.get(e.kind), KIND_NAMES.get(kind)))
        if e.version != KIND_VERSIONS[kind]:
            raise VersionMismatch("multiproc: object %r: %s layout %d, this package reads %d"
                                  % (name, KIND_NAMES[kind], e.version, KIND_VERSIONS[kind]))
        if e.elem_size != elem_size or e.fingerprint != fingerprint:
            raise TypeMismatch("multiproc: object %r: element of %d bytes (fingerprint %#x), want %d bytes (%#x)"
                               % (name, e.elem_size, e.fingerprint, elem_size, fingerprint))
        return e

    def _track(self, obj):
        self._objects.append(obj)

    # --- identity ----------------------------------------------------------

    def alive(self, id_):
        return self.table.alive(id_)

    def alive_short(self, sh):
        return self.table.alive_short(sh)

    def stamp(self, id_):
        return self.table.stamp(id_)

    # --- objects -----------------------------------------------------------

    def queue(self, name, typ=None):
        """The queue name (Go's ringqueue.New; with typ, a ctypes type, Go's
        raw Typed[T] of that layout)."""
        from .queue import Queue
        return Queue(self, name, typ)

    def lock(self, name):
        from .lock import Lock
        return Lock.open(self, name)

    def semaphore(self, name):
        from .semaphore import Semaphore
        return Semaphore(self, name)

    def event(self, name):
        from .event import Event
        return Event(self, name)

    def value(self, name, typ, lock=None):
        from .value import Value
        return Value(self, name, typ, lock=lock)

    def array(self, name, typ, lock=None):
        from .value import Array
        return Array(self, name, typ, lock=lock)


def open_segment(name):
    """Attach the named segment that a Go process created (shm.Create)."""
    return Segment(name)
