"""Go's value.Value[T] and array.Array[T] from Python.

T is named by a ctypes type (layout.py); opening checks Go's recorded
element size and fingerprint, then the object's own header, as Go's Open
does.

Value object (value/layout.go, layout version 2), offsets from its start:

    0   Magic u32 "MPVL", Version u32, Flags u32 (1: locked), ElemSize u32,
        DataOff u32, Stride u32, Buffers u32, pad, Seq u32 at 32,
        Writer u64 at 40
    64  mutex (locked values only; lock.py)
    D   data: T of at most 8 bytes is one 8-byte word holding T's bytes
        from its first byte, the rest zero, loaded and stored whole; a
        wider T is two buffers Stride apart, Seq's low bit naming the
        current one (the seqlock of value/seqlock.go)

Array object (array/layout.go, version 1): Magic u32 "MPAR", Version,
Flags, ElemSize, Len u64 at 16, DataOff u32 at 24; elements from DataOff,
back to back. Array.view is a ctypes array over the shared bytes (zero
copy); whole-array consistency is the lock's job, as in Go.
"""

import ctypes
import struct
import time

from . import _atomics as at
from .errors import Corrupt, MultiprocError, VersionMismatch
from .layout import go_layout
from .lock import Lock, MUTEX_SIZE
from .segment import KIND_ARRAY, KIND_VALUE

VALUE_MAGIC = 0x4C56504D
VALUE_VERSION = 2
ARRAY_MAGIC = 0x5241504D
ARRAY_VERSION = 1
FLAG_LOCKED = 1
MAX_ELEM = 1 << 30
MAX_ARRAY_BYTES = 1 << 40
WRITER_CHECK_EVERY = 0.005


def _align(n, a):
    return (n + a - 1) & ~(a - 1)


class _Locked:
    def _init_lock(self, seg, e, flags, want_lock, what):
        locked = bool(flags & FLAG_LOCKED)
        if want_lock is not None and bool(want_lock) != locked:
            raise MultiprocError("multiproc: %s %r is %s, opened as %s" % (
                what, e.name, "locked" if locked else "raw", "locked" if want_lock else "raw"))
        self._lock = Lock(seg, e.offset + 64, e.name + ".lock") if locked else None

    def get_lock(self):
        """The object's lock (Go's Mutex()), as multiprocessing's get_lock()."""
        if self._lock is None:
            raise MultiprocError("multiproc: %r is a raw object: it has no lock" % self.name)
        return self._lock

    def get_obj(self):
        return self


class Value(_Locked):
    """A shared T: .value loads and stores it (atomically for T of up to 8
    bytes; through the seqlock for wider T)."""

    def __init__(self, seg, name, typ, lock=None):
        size, fp = go_layout(typ)
        e = seg.open_object(name, KIND_VALUE, size, fp)
        if e.size < 64:
            raise Corrupt("multiproc: value %r: object of %d bytes" % (name, e.size))
        magic, ver, flags, elem, data_off, stride, bufs = struct.unpack_from("=7I", bytes(seg.mv[e.offset:e.offset + 28]))
        if magic != VALUE_MAGIC:
            raise Corrupt("multiproc: value %r: bad magic %#x" % (name, magic))
        if ver != VALUE_VERSION:
            raise VersionMismatch("multiproc: value %r: layout %d, this package reads %d" % (name, ver, VALUE_VERSION))
        if flags & ~FLAG_LOCKED:
            raise Corrupt("multiproc: value %r: unknown flags %#x" % (name, flags))
        if elem != e.elem_size or elem != size:
            raise Corrupt("multiproc: value %r: header says %d-byte elements, its entry %d" % (name, elem, e.elem_size))
        want_off = 64 + (MUTEX_SIZE if flags & FLAG_LOCKED else 0)
        if size <= 8:
            want = (want_off, 0, 1, want_off + 8)
        else:
            st = _align(size, 64)
            want = (want_off, st, 2, want_off + 2 * st)
        if (data_off, stride, bufs) != want[:3] or e.size < want[3]:
            raise Corrupt("multiproc: value %r: geometry (%d, %d, %d) differs from (%d, %d, %d)"
                          % ((name, data_off, stride, bufs) + want[:3]))
        self._seg, self.name, self._typ, self._size = seg, name, typ, size
        self._data = e.offset + data_off
        self._stride = stride
        self._seq_i = (e.offset + 32) >> 2
        self._writer_i = (e.offset + 40) >> 3
        self._writer_a = seg.base + e.offset + 40
        self._seq_a = seg.base + e.offset + 32
        self._init_lock(seg, e, flags, lock, "value")
        # A numeric T reads and writes through a memoryview of its own
        # format over the data word: one aligned load or store (single-copy
        # atomic on x86-64), no ctypes object per access. The word's other
        # bytes stay zero, as Go keeps them.
        code = getattr(typ, "_type_", None)
        self._cell = None
        if isinstance(code, str) and code in "bBhHiIlLqQfd?" and struct.calcsize(code) == size:
            self._cell = seg.mv[self._data:self._data + size].cast(code)
        seg._track(self)

    def _detach_views(self):
        if self._cell is not None:
            self._cell.release()
            self._cell = None
        self._seg = None

    @property
    def value(self):
        if self._cell is not None:
            return self._cell[0]
        seg = self._seg
        if self._size <= 8:
            w = seg.w64[self._data >> 3]
            raw = w.to_bytes(8, "little")[:self._size]
        else:
            while True:
                s = seg.w32[self._seq_i]
                b = self._data + (s & 1) * self._stride
                raw = bytes(seg.mv[b:b + self._size])
                if seg.w32[self._seq_i] == s:
                    break
        v = self._typ.from_buffer_copy(raw)
        return v.value if hasattr(v, "value") and not isinstance(v, ctypes.Structure) else v

    @value.setter
    def value(self, x):
        cell = self._cell
        if cell is not None:
            try:
                cell[0] = x
                return
            except (TypeError, ValueError, struct.error):
                x = self._typ(x).value  # what ctypes makes of it (wraps, truncates), as the slow path
                cell[0] = x
                return
        seg = self._seg
        if not isinstance(x, self._typ):
            x = self._typ(x)
        raw = bytes(x)
        if self._size <= 8:
            # One aligned 8-byte store: atomic on x86-64.
            seg.w64[self._data >> 3] = int.from_bytes(raw.ljust(8, b"\0"), "little")
            return
        self._claim()
        try:
            s = seg.w32[self._seq_i]
            b = self._data + ((s + 1) & 1) * self._stride
            seg.mv[b:b + self._size] = raw
            at.xchg32(self._seq_a, (s + 1) & at.MASK32)
        finally:
            at.cas64(self._writer_a, self._seg.self_id, 0)

    def _claim(self):
        """Become the seqlock's only writer (value/seqlock.go): CAS Writer
        0 -> self; a holder found dead is taken over."""
        me = self._seg.self_id
        last = time.monotonic()
        while True:
            h = self._seg.w64[self._writer_i]
            if h == 0 or h == me:
                if at.cas64(self._writer_a, h, me) == h:
                    return
                continue
            now = time.monotonic()
            if now - last >= WRITER_CHECK_EVERY:
                last = now
                if not self._seg.alive(h) and at.cas64(self._writer_a, h, me) == h:
                    return
            time.sleep(20e-6)

    def __repr__(self):
        return "<Value %r %r>" % (self.name, self.value)


class Array(_Locked):
    """A shared array of T: .view is a ctypes array over the shared bytes,
    indexable and sliceable (zero copy); len() elements."""

    def __init__(self, seg, name, typ, lock=None):
        size, fp = go_layout(typ)
        e = seg.open_object(name, KIND_ARRAY, size, fp)
        if e.size < 64:
            raise Corrupt("multiproc: array %r: object of %d bytes" % (name, e.size))
        magic, ver, flags, elem, n, data_off = struct.unpack_from("=4IQI", bytes(seg.mv[e.offset:e.offset + 28]))
        if magic != ARRAY_MAGIC:
            raise Corrupt("multiproc: array %r: bad magic %#x" % (name, magic))
        if ver != ARRAY_VERSION:
            raise VersionMismatch("multiproc: array %r: layout %d, this package reads %d" % (name, ver, ARRAY_VERSION))
        if flags & ~FLAG_LOCKED:
            raise Corrupt("multiproc: array %r: unknown flags %#x" % (name, flags))
        if elem != e.elem_size:
            raise Corrupt("multiproc: array %r: header says %d-byte elements, its entry %d" % (name, elem, e.elem_size))
        if n > MAX_ARRAY_BYTES or (elem and n > MAX_ARRAY_BYTES // elem):
            raise Corrupt("multiproc: array %r: %d elements of %d bytes" % (name, n, elem))
        want_off = 64 + (MUTEX_SIZE if flags & FLAG_LOCKED else 0)
        if data_off != want_off or e.size < want_off + _align(n * elem, 8):
            raise Corrupt("multiproc: array %r: data at %d (want %d) in %d bytes" % (name, data_off, want_off, e.size))
        self._seg, self.name, self._typ, self._len = seg, name, typ, n
        self.view = (typ * n).from_buffer(seg._mm, e.offset + data_off)
        self._init_lock(seg, e, flags, lock, "array")
        seg._track(self)

    def _detach_views(self):
        self.view = None

    def __len__(self):
        return self._len

    def __getitem__(self, i):
        return self.view[i]

    def __setitem__(self, i, x):
        self.view[i] = x
