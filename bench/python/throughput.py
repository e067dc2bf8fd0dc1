#!/usr/bin/env python3
"""Throughput of multiprocessing.Queue or Pipe(duplex=False) between two
processes: a forked child sends n messages of --size bytes, the main process
receives them. Prints "msgs/s X ns Y" (Y: nanoseconds of the timed loop).

The queue is bounded like the Go side's ring (--capacity slots), so that a
fast producer cannot pile up gigabytes in the feeder's buffer. The producer
learns each run's n on a control pipe and stops at n = 0.
"""

import time

import common


def produce(ctl, out, kind, size):
    msg = b"x" * size
    send = out.put if kind == "queue" else out.send_bytes
    while True:
        n = ctl.recv()
        if n == 0:
            return
        for _ in range(n):
            send(msg)


def main():
    p = common.parser(__doc__)
    p.add_argument("--system", choices=("queue", "pipe"), required=True)
    p.add_argument("--size", type=int, default=64, help="message bytes")
    p.add_argument("--capacity", type=int, default=1024, help="queue maxsize")
    args = p.parse_args()
    ctx = common.context(args)
    size = args.size
    ctl_r, ctl_w = ctx.Pipe(duplex=False)
    if args.system == "queue":
        q = ctx.Queue(maxsize=args.capacity)
        out, receive = q, q.get
    else:
        r, w = ctx.Pipe(duplex=False)
        out, receive = w, r.recv_bytes
    child = ctx.Process(target=produce, args=(ctl_r, out, args.system, size), daemon=True)
    child.start()

    def run(n):
        t0 = time.perf_counter_ns()
        ctl_w.send(n)
        m = b""
        for _ in range(n):
            m = receive()
        t1 = time.perf_counter_ns()
        if len(m) != size:
            raise SystemExit("received %d-byte messages, want %d" % (len(m), size))
        ns = max(t1 - t0, 1)
        return [("msgs/s", n * 1e9 / ns), ("ns", ns)]

    common.serve(args, run)
    ctl_w.send(0)
    common.check_exit(child, "producer")


if __name__ == "__main__":
    main()
