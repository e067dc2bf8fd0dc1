# Python's multiprocessing Manager, measured the way bench_test.go measures
# package manager: one proxy call round trip, and a dict set+get pair.
# Usage: python3 pybench.py roundtrip|dict N [unix|tcp [CALLERS]]
#   -> prints ns per operation (CALLERS threads share the N operations; each
#   thread has its own connection, as Python's proxies do).
import sys
import threading
import time
from multiprocessing.managers import SyncManager


def main():
    what, n = sys.argv[1], int(sys.argv[2])
    transport = sys.argv[3] if len(sys.argv) > 3 else "unix"
    callers = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    address = ("127.0.0.1", 0) if transport == "tcp" else None
    m = SyncManager(address=address)
    m.start()
    try:
        if what == "roundtrip":
            v = m.Value("i", 0)

            def op(i):
                v.value
        elif what == "dict":
            d = m.dict()

            def op(i):
                d["k"] = i
                d["k"]
        else:
            sys.exit("unknown benchmark " + what)
        go = threading.Barrier(callers + 1)
        shares = [n // callers + (1 if i < n % callers else 0) for i in range(callers)]

        def caller(share):
            for i in range(200):  # its connection, warm
                op(i)
            go.wait()
            for i in range(share):
                op(i)

        threads = [threading.Thread(target=caller, args=(s,)) for s in shares]
        for t in threads:
            t.start()
        go.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        dt = time.perf_counter() - t0
    finally:
        m.shutdown()
    print(f"{dt / n * 1e9:.0f}")


if __name__ == "__main__":
    main()
