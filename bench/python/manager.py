#!/usr/bin/env python3
"""Proxy round trips through multiprocessing's Manager: v.value on a
manager.Value, n times in all, from --callers threads of this process (each
thread has its own connection to the manager, as Python's proxies do). The
manager's server process listens on a unix socket (--transport unix, the
default Manager()) or on TCP loopback. Prints "ops/s X ns Y".
"""

import threading
import time
from multiprocessing.managers import SyncManager

import common


def main():
    p = common.parser(__doc__)
    p.add_argument("--transport", default="unix", choices=["unix", "tcp"])
    p.add_argument("--callers", type=int, default=1)
    args = p.parse_args()
    ctx = common.context(args)
    address = ("127.0.0.1", 0) if args.transport == "tcp" else None
    m = SyncManager(address=address, ctx=ctx)
    m.start()
    v = m.Value("i", 7)
    for _ in range(200):  # connect, warm up
        v.value

    if args.callers <= 1:
        def run(n):
            t0 = time.perf_counter_ns()
            for _ in range(n):
                v.value
            ns = max(time.perf_counter_ns() - t0, 1)
            return [("ops/s", n * 1e9 / ns), ("ns", ns)]

        common.serve(args, run)
        m.shutdown()
        return

    # Persistent threads, each with its connection made before timing.
    start = threading.Barrier(args.callers + 1)
    done = threading.Barrier(args.callers + 1)
    work = [0] * args.callers
    stop = [False]

    def caller(i):
        for _ in range(200):
            v.value
        while True:
            start.wait()
            if stop[0]:
                return
            for _ in range(work[i]):
                v.value
            done.wait()

    threads = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(args.callers)]
    for t in threads:
        t.start()

    def run(n):
        work[:] = common.shares(n, args.callers)
        t0 = time.perf_counter_ns()
        start.wait()
        done.wait()
        ns = max(time.perf_counter_ns() - t0, 1)
        return [("ops/s", n * 1e9 / ns), ("ns", ns)]

    common.serve(args, run)
    stop[0] = True
    start.wait()
    for t in threads:
        t.join()
    m.shutdown()


if __name__ == "__main__":
    main()
