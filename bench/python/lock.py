#!/usr/bin/env python3
"""multiprocessing.Lock acquire+release, n times in all: in the main process
(--procs 1, uncontended) or split between --procs forked children that
contend. Prints "ops/s X ns Y".
"""

import time

import common


def work(lock, ctl, ends, i):
    acquire, release = lock.acquire, lock.release
    while True:
        n = ctl.recv()  # the command is the start signal
        if n < 0:
            return
        for _ in range(n):
            acquire()
            release()
        ends[i] = time.perf_counter_ns()  # CLOCK_MONOTONIC: comparable across processes
        ctl.send(True)


def main():
    p = common.parser(__doc__)
    p.add_argument("--procs", type=int, default=1)
    args = p.parse_args()
    ctx = common.context(args)
    lock = ctx.Lock()

    if args.procs <= 1:
        acquire, release = lock.acquire, lock.release

        def run(n):
            t0 = time.perf_counter_ns()
            for _ in range(n):
                acquire()
                release()
            ns = max(time.perf_counter_ns() - t0, 1)
            return [("ops/s", n * 1e9 / ns), ("ns", ns)]

        common.serve(args, run)
        return

    ends = ctx.Array("q", args.procs, lock=False)
    ctls, kids = [], []
    for i in range(args.procs):
        mine, theirs = ctx.Pipe()
        k = ctx.Process(target=work, args=(lock, theirs, ends, i), daemon=True)
        k.start()
        ctls.append(mine)
        kids.append(k)

    def run(n):
        t0 = time.perf_counter_ns()
        for c, share in zip(ctls, common.shares(n, len(ctls))):
            c.send(share)
        for c in ctls:
            c.recv()
        ns = max(max(ends) - t0, 1)
        return [("ops/s", n * 1e9 / ns), ("ns", ns)]

    common.serve(args, run)
    for c, k in zip(ctls, kids):
        c.send(-1)
        common.check_exit(k, "worker")


if __name__ == "__main__":
    main()
