#!/usr/bin/env python3
"""The Python side of the cross-language benchmarks (BenchmarkPython): this
repository's Python package (python/multiproc) on a segment a Go benchmark
made.

--role produce: on "run N" put N messages of --size bytes on the queue
--queue of segment --segment, with put_many in batches of --batch (1:
put, one call per message); the Go benchmark consumes them meanwhile.
--role count: on "run N" add 1 to the int64 Value --value N times under
its lock, while the Go benchmark does the same. Prints "msgs/s X ns Y" or
"ops/s X ns Y" for its own loop.
"""

import ctypes
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import multiproc  # noqa: E402

import common  # noqa: E402


def main():
    p = common.parser(__doc__)
    p.add_argument("--role", choices=("produce", "count"), required=True)
    p.add_argument("--segment", required=True)
    p.add_argument("--queue", default="q")
    p.add_argument("--value", default="v")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=256)
    args = p.parse_args()
    seg = multiproc.open_segment(args.segment)

    if args.role == "produce":
        q = seg.queue(args.queue)
        msg = b"x" * args.size
        batch = args.batch
        chunk = [msg] * batch

        def run(n):
            t0 = time.perf_counter_ns()
            if batch == 1:
                put = q.put
                for _ in range(n):
                    put(msg)
            else:
                for i in range(0, n - n % batch, batch):
                    q.put_many(chunk)
                if n % batch:
                    q.put_many([msg] * (n % batch))
            ns = max(time.perf_counter_ns() - t0, 1)
            return [("msgs/s", n * 1e9 / ns), ("ns", ns)]
    else:
        v = seg.value(args.value, ctypes.c_int64)
        lock = v.get_lock()

        def run(n):
            t0 = time.perf_counter_ns()
            for _ in range(n):
                with lock:
                    v.value += 1
            ns = max(time.perf_counter_ns() - t0, 1)
            return [("ops/s", n * 1e9 / ns), ("ns", ns)]

    try:
        common.serve(args, run)
    finally:
        seg.close()


if __name__ == "__main__":
    main()
