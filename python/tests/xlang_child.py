"""The Python side of the Go cross-language tests (crosslang_test.go).

Run as: python3 xlang_child.py COMMAND SEGMENT ARGS...; prints one result
line ("ok ...") or an exception's class name and message on stderr with
a nonzero exit. The Go test decides what is right.
"""

import ctypes
import os
import struct
import sys
import zlib

import multiproc
from multiproc import Empty, Full  # noqa: F401  (re-exported names must exist)

PAT = bytes(range(256)) * 2
_Q = struct.Struct("<Q")


def message(i):
    """Message i of the checksummed stream: its index, then 0..56 bytes of a
    pattern that depends on i (the Go side builds the same)."""
    n = i % 57
    o = i % 256
    return _Q.pack(i) + PAT[o:o + n]


def cmd_consume(seg, name, n, batch):
    q = seg.queue(name)
    got = 0
    crc = 0
    batch = int(batch)
    try:
        while True:
            msgs = q.get_many(batch) if batch > 1 else [q.get()]
            for m in msgs:
                if m != message(got):
                    raise AssertionError("message %d: got %r" % (got, bytes(m[:16])))
                crc = zlib.crc32(m, crc)
                got += 1
    except multiproc.Closed:
        pass
    if got != int(n):
        raise AssertionError("got %d messages, want %s" % (got, n))
    print("ok %d %d" % (got, crc), flush=True)


def cmd_produce(seg, name, n, batch):
    q = seg.queue(name)
    n, batch = int(n), int(batch)
    crc = 0
    i = 0
    while i < n:
        k = min(batch, n - i)
        msgs = [message(j) for j in range(i, i + k)]
        for m in msgs:
            crc = zlib.crc32(m, crc)
        if batch > 1:
            q.put_many(msgs)
        else:
            q.put(msgs[0])
        i += k
    q.close()
    print("ok %d %d" % (n, crc), flush=True)


def cmd_put_then_die(seg, name):
    """Put "before", then claim a slot and write half a message, and wait
    on stdin to be killed: a producer killed mid-put."""
    q = seg.queue(name)
    q.put(b"before")
    pos = q._claim(q._try_claim_put, q._put_gate, True, None, Full)
    s = q._slots + (pos & q._mask) * q._stride
    q._mv[s + 16:s + 20] = b"torn"
    print("claimed", flush=True)
    sys.stdin.read()


def cmd_get_one(seg, name, timeout):
    q = seg.queue(name)
    m = q.get(timeout=float(timeout))
    print("ok %s" % bytes(m).decode(), flush=True)


def cmd_get_n(seg, name, n, timeout):
    q = seg.queue(name)
    got = [bytes(q.get(timeout=float(timeout))).decode() for _ in range(int(n))]
    print("ok %s" % " ".join(got), flush=True)


class Point(ctypes.Structure):
    """The Go test's point struct: {X int64; Y float64; Tag [4]uint8}."""
    _fields_ = [("X", ctypes.c_int64), ("Y", ctypes.c_double), ("Tag", ctypes.c_uint8 * 4)]


class PointSwapped(ctypes.Structure):
    """Point with its first two fields' names swapped: another layout."""
    _fields_ = [("Y", ctypes.c_int64), ("X", ctypes.c_double), ("Tag", ctypes.c_uint8 * 4)]


def cmd_point(seg, name, which):
    v = seg.value(name, {"Point": Point, "PointSwapped": PointSwapped}[which])
    p = v.value
    print("ok %d %g %s" % (p.X, p.Y, bytes(p.Tag).decode()), flush=True)
    p.X += 1
    v.value = p


def cmd_typed_echo(seg, inq, outq, which):
    """Get a Point from Go's Typed[point] queue, put it back with X doubled."""
    typ = {"Point": Point, "PointSwapped": PointSwapped}[which]
    qi, qo = seg.queue(inq, typ), seg.queue(outq, typ)
    p = qi.get(timeout=30)
    print("ok %d %g %s" % (p.X, p.Y, bytes(p.Tag).decode()), flush=True)
    p.X *= 2
    qo.put(p)


def cmd_event(seg, ping, pong):
    """Wait for Go to set ping, then set pong for Go."""
    e1, e2 = seg.event(ping), seg.event(pong)
    print("waiting", flush=True)
    if not e1.wait(timeout=30):
        raise AssertionError("ping never set")
    if e2.wait(timeout=0):
        raise AssertionError("pong set before python set it")
    e2.set()
    print("ok", flush=True)


def cmd_semaphore(seg, name):
    """Block for a unit Go releases, then release three (the bound is 2)."""
    s = seg.semaphore(name)
    print("waiting", flush=True)
    if not s.acquire(timeout=30):
        raise AssertionError("no unit came")
    s.release()
    s.release()
    try:
        s.release()
    except ValueError:
        print("ok %d" % s.get_value(), flush=True)
        return
    raise AssertionError("released past the bound")


def cmd_array(seg, name):
    a = seg.array(name, ctypes.c_int32)
    with a.get_lock():
        total = sum(a.view)
        for i in range(len(a)):
            a[i] = a[i] * 2
    print("ok %d %d" % (len(a), total), flush=True)


def cmd_block_get(seg, name):
    """Block in get until interrupted; leave the table on the way out."""
    q = seg.queue(name)
    try:
        print("getting", flush=True)
        q.get()
    finally:
        seg.close()
        print("closed", flush=True)


def cmd_lock_then_die(seg, name):
    lk = seg.lock(name)
    lk.acquire()
    print("locked", flush=True)
    sys.stdin.read()


def cmd_lock_after_death(seg, name):
    lk = seg.lock(name)
    try:
        lk.acquire(timeout=30)
    except multiproc.OwnerDead:
        lk.mark_consistent()
        lk.release()
        print("ok ownerdead", flush=True)
        return
    raise AssertionError("acquired without OwnerDead")


def cmd_count(seg, lockname, valname, n):
    """Add 1 to an int64 Value n times under its lock (shared with Go)."""
    v = seg.value(valname, ctypes.c_int64)
    for _ in range(int(n)):
        with v.get_lock():
            v.value += 1
    print("ok", flush=True)


def cmd_open(seg, kind, name, typ):
    types = {"int64": ctypes.c_int64, "float64": ctypes.c_double, "int32": ctypes.c_int32}
    if kind == "value":
        v = seg.value(name, types[typ])
        print("ok %r" % v.value, flush=True)
    elif kind == "queue":
        seg.queue(name)
        print("ok", flush=True)


def main():
    cmd, segname, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        seg = multiproc.open_segment(segname)
    except multiproc.MultiprocError as e:
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr, flush=True)
        sys.exit(3)
    try:
        globals()["cmd_" + cmd.replace("-", "_")](seg, *args)
    except multiproc.MultiprocError as e:
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr, flush=True)
        sys.exit(3)
    finally:
        seg.close()


if __name__ == "__main__":
    main()
