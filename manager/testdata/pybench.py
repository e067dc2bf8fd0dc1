# Python's multiprocessing Manager, measured the way bench_test.go measures
# package manager: one proxy call round trip, and a dict set+get pair.
# Usage: python3 pybench.py roundtrip|dict N  -> prints ns per operation.
import sys
import time
from multiprocessing import Manager


def main():
    what, n = sys.argv[1], int(sys.argv[2])
    with Manager() as m:
        if what == "roundtrip":
            v = m.Value("i", 0)
            for _ in range(200):
                v.value
            t = time.perf_counter()
            for _ in range(n):
                v.value
            dt = time.perf_counter() - t
        elif what == "dict":
            d = m.dict()
            for i in range(200):
                d["k"] = i
                d["k"]
            t = time.perf_counter()
            for i in range(n):
                d["k"] = i
                d["k"]
            dt = time.perf_counter() - t
        else:
            sys.exit("unknown benchmark " + what)
    print(f"{dt / n * 1e9:.0f}")


if __name__ == "__main__":
    main()
