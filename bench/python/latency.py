#!/usr/bin/env python3
"""Round-trip latency over multiprocessing.Pipe() (duplex, a unix socket pair):
the main process sends --size bytes, a forked child sends them back, n times.
Each round trip's duration goes into a preallocated list. Prints
"p50-ns X p99-ns Y ns Z" (nearest-rank percentiles; Z: the whole loop).
"""

import time

import common


def echo(conn):
    recv, send = conn.recv_bytes, conn.send_bytes
    while True:
        m = recv()
        if not m:
            return
        send(m)


def main():
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, default=64, help="message bytes (at least 1)")
    args = p.parse_args()
    ctx = common.context(args)
    a, b = ctx.Pipe()
    child = ctx.Process(target=echo, args=(b,), daemon=True)
    child.start()
    b.close()
    msg = b"x" * max(args.size, 1)
    send, recv, now = a.send_bytes, a.recv_bytes, time.perf_counter_ns

    def run(n):
        times = [0] * n
        t0 = now()
        for i in range(n):
            t = now()
            send(msg)
            recv()
            times[i] = now() - t
        t1 = now()
        times.sort()
        return [("p50-ns", common.nearest_rank(times, 0.50)),
                ("p99-ns", common.nearest_rank(times, 0.99)),
                ("ns", max(t1 - t0, 1))]

    common.serve(args, run)
    send(b"")  # an empty message stops the echo
    common.check_exit(child, "echo child")


if __name__ == "__main__":
    main()
