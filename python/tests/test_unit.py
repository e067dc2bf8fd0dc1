"""Unit tests of the parts that need no Go process: atomics, the layout
fingerprint, header validation. The cross-language tests are Go's
(crosslang tests in this directory, run by go test ./python/)."""

import ctypes
import mmap
import struct
import unittest

import multiproc
from multiproc import _atomics as at
from multiproc import layout, segment


class TestAtomics(unittest.TestCase):
    def setUp(self):
        self.m = mmap.mmap(-1, 4096)
        self.a = ctypes.addressof(ctypes.c_char.from_buffer(self.m))
        self.w = memoryview(self.m).cast("Q")

    def tearDown(self):
        self.w.release()

    def test_cas64(self):
        self.assertEqual(at.cas64(self.a, 0, 5), 0)
        self.assertEqual(self.w[0], 5)
        self.assertEqual(at.cas64(self.a, 0, 7), 5)  # failed: returns what it found
        self.assertEqual(self.w[0], 5)
        self.assertEqual(at.cas64(self.a, 5, at.MASK64), 5)
        self.assertEqual(self.w[0], at.MASK64)

    def test_add_xchg(self):
        self.assertEqual(at.add64(self.a, at.MASK64), 0)  # -1
        self.assertEqual(self.w[0], at.MASK64)
        self.assertEqual(at.xchg64(self.a, 42), at.MASK64)
        self.assertEqual(at.add32(self.a + 8, 0xFFFFFFFF), 0)
        self.assertEqual(at.cas32(self.a + 8, 0xFFFFFFFF, 3), 0xFFFFFFFF)
        self.assertEqual(at.xchg32(self.a + 8, 9), 3)
        self.assertEqual(memoryview(self.m).cast("I")[2], 9)


class Point(ctypes.Structure):
    _fields_ = [("X", ctypes.c_int64), ("Y", ctypes.c_double), ("Tag", ctypes.c_uint8 * 4)]


class TestLayout(unittest.TestCase):
    def test_describe(self):
        # The strings Go's internal/layout hashes (reflect kinds, sizes,
        # alignments, field names and offsets).
        self.assertEqual(layout.describe(ctypes.c_int64), "int64/8/8")
        self.assertEqual(layout.describe(layout.GoInt), "int/8/8")
        self.assertEqual(layout.describe(ctypes.c_double * 3), "array/24/8[3]float64/8/8")
        self.assertEqual(layout.describe(Point),
                         "struct/24/8{X@0:int64/8/8;Y@8:float64/8/8;Tag@16:array/4/1[4]uint8/1/1;}")

    def test_fingerprint_is_fnv1a(self):
        self.assertEqual(segment.fnv1a64(b""), 0xCBF29CE484222325)
        self.assertEqual(segment.fnv1a64(b"a"), 0xAF63DC4C8601EC8C)
        self.assertEqual(layout.fingerprint(ctypes.c_int64), segment.fnv1a64(b"int64/8/8"))

    def test_refused(self):
        class Packed(ctypes.Structure):
            _pack_ = 1
            _fields_ = [("A", ctypes.c_int8), ("B", ctypes.c_int64)]
        with self.assertRaises(TypeError):
            layout.describe(Packed)
        with self.assertRaises(TypeError):
            layout.describe(ctypes.c_char_p)


class TestValidate(unittest.TestCase):
    def test_not_segment(self):
        for junk in (b"", b"#!/bin/sh\n", bytes(4096)):
            with self.assertRaises(multiproc.NotSegment):
                segment.validate(junk)

    def test_short_and_bad_checksum(self):
        head = struct.pack("=Q", segment.MAGIC)
        with self.assertRaises(multiproc.Corrupt):
            segment.validate(head + bytes(100))
        b = bytearray(4096)
        struct.pack_into("=QI", b, 0, segment.MAGIC, segment.LAYOUT_VERSION)
        with self.assertRaises(multiproc.Corrupt):  # checksum 0 is wrong
            segment.validate(bytes(b))
        struct.pack_into("=I", b, 8, 2)
        with self.assertRaises(multiproc.VersionMismatch):
            segment.validate(bytes(b))

    def test_open_missing(self):
        with self.assertRaises(multiproc.NotFound):
            multiproc.open_segment("multiproc-no-such-segment-%d" % id(self))
        with self.assertRaises(ValueError):
            multiproc.open_segment("../etc/passwd")


if __name__ == "__main__":
    unittest.main()
