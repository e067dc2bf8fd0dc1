"""The Python half of python/example: square every job, add to the counter."""

import ctypes
import struct
import sys

import multiproc

with multiproc.open_segment(sys.argv[1]) as seg:
    jobs, results = seg.queue("jobs"), seg.queue("results")
    done = seg.value("done", ctypes.c_int64)  # Go's value.New[int64]
    while True:
        try:
            (n,) = struct.unpack("<Q", jobs.get(timeout=30))
        except multiproc.Closed:  # Go closed it and it is drained
            break
        results.put(struct.pack("<Q", n * n))
        with done.get_lock():
            done.value += 1
    results.close()
