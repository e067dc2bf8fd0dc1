# Python's multiprocessing.Pool(2): map over range(items), chunksize chunk
# (0: Python's default). argv: n items chunk. Prints items per second.
import multiprocessing as mp, sys, time


def double(x):
    return 2 * x


if __name__ == "__main__":
    mp.set_start_method("fork")
    n, items, chunk = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    xs = list(range(items))
    with mp.Pool(2) as p:
        # Warmed as the Go figures are (bench_test.go's benchMap): at
        # least 3 untimed calls and 100 ms of them.
        w, i = time.perf_counter(), 0
        while i < 3 or time.perf_counter() - w < 0.1:
            p.map(double, xs, chunk or None)
            i += 1
        t = time.perf_counter()
        for _ in range(n):
            p.map(double, xs, chunk or None)
        dt = time.perf_counter() - t
    print(n * items / dt)
