# Python's multiprocessing.Pool(2): apply_async(...).get() round trip.
# argv: n. Prints ns per call, then the p50 in ns.
import multiprocessing as mp, sys, time


def double(x):
    return 2 * x


if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1])
    with mp.Pool(2) as p:
        for i in range(200):  # the same warm-up as the Go side's
            p.apply_async(double, (i,)).get()
        lat = []
        t = time.perf_counter()
        for i in range(n):
            s = time.perf_counter()
            p.apply_async(double, (i,)).get()
            lat.append(time.perf_counter() - s)
        dt = time.perf_counter() - t
    lat.sort()
    print(dt / n * 1e9, lat[len(lat) // 2] * 1e9)
