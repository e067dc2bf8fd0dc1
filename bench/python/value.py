#!/usr/bin/env python3
"""multiprocessing.Value('q') incremented under its lock (the way Python makes
"+= 1" atomic), n times in all: in the main process (--procs 1) or split
between --procs forked children that contend. Checks the count. Prints
"ops/s X ns Y".
"""

import time

import common


def work(v, ctl, ends, i):
    lock = v.get_lock()
    while True:
        n = ctl.recv()  # the command is the start signal
        if n < 0:
            return
        for _ in range(n):
            with lock:
                v.value += 1
        ends[i] = time.perf_counter_ns()  # CLOCK_MONOTONIC: comparable across processes
        ctl.send(True)


def main():
    p = common.parser(__doc__)
    p.add_argument("--procs", type=int, default=1)
    args = p.parse_args()
    ctx = common.context(args)
    v = ctx.Value("q", 0)

    def check(n):
        if v.value != n:
            raise SystemExit("count %d, want %d" % (v.value, n))
        v.value = 0

    if args.procs <= 1:
        lock = v.get_lock()

        def run(n):
            t0 = time.perf_counter_ns()
            for _ in range(n):
                with lock:
                    v.value += 1
            ns = max(time.perf_counter_ns() - t0, 1)
            check(n)
            return [("ops/s", n * 1e9 / ns), ("ns", ns)]

        common.serve(args, run)
        return

    ends = ctx.Array("q", args.procs, lock=False)
    ctls, kids = [], []
    for i in range(args.procs):
        mine, theirs = ctx.Pipe()
        k = ctx.Process(target=work, args=(v, theirs, ends, i), daemon=True)
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
        check(n)
        return [("ops/s", n * 1e9 / ns), ("ns", ns)]

    common.serve(args, run)
    for c, k in zip(ctls, kids):
        c.send(-1)
        common.check_exit(k, "worker")


if __name__ == "__main__":
    main()
