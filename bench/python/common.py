"""Shared plumbing of the benchmark scripts: arguments, the protocol with the
Go harness, and the result lines.

Protocol with the Go side (bench/python.go). With --serve a script sets itself
up once (imports, worker processes started and waiting), prints "ready", then
reads commands from standard input:

    run N    time N messages or operations; print one result line of
             "unit value" pairs, e.g. "msgs/s 315000.5 ns 31746031"
    (EOF)    stop the workers and exit 0

The Go benchmark's timer runs from writing "run N" to reading the result, so
interpreter and process start-up stay outside it, as a Go child's do, and one
interpreter serves every round of a benchmark. Without --serve a script runs
--n once and prints the result line, for use by hand.
"""

import argparse
import math
import multiprocessing
import sys


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--n", type=int, default=100000, help="messages or operations to time (without --serve)")
    p.add_argument("--serve", action="store_true", help="print ready, then run the 'run N' commands read from stdin")
    p.add_argument("--start-method", default="fork", choices=multiprocessing.get_all_start_methods(),
                   help="multiprocessing start method (default fork, as Python 3.11 on Linux)")
    return p


def context(args):
    return multiprocessing.get_context(args.start_method)


def serve(args, run):
    """Run run(n) -> [(unit, value), ...] once, or for every command."""
    if not args.serve:
        emit(run(args.n))
        return
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        cmd = line.split()
        if len(cmd) == 2 and cmd[0] == "run":
            emit(run(int(cmd[1])))
        elif cmd:
            sys.exit("unknown command %r" % line)


def emit(pairs):
    """Print the result line: unit value pairs."""
    sys.stdout.write(" ".join("%s %.1f" % (unit, value) for unit, value in pairs) + "\n")
    sys.stdout.flush()


def shares(n, k):
    """n split into k near-equal parts."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def nearest_rank(sorted_values, q):
    """The q-quantile by the nearest-rank method (as the Go side computes it)."""
    n = len(sorted_values)
    rank = min(max(math.ceil(q * n - 1e-9), 1), n)
    return sorted_values[rank - 1]


def check_exit(proc, what):
    proc.join()
    if proc.exitcode != 0:
        sys.exit("%s exited with %s" % (what, proc.exitcode))
