package bench

import (
	"strconv"
	"testing"
)

// Throughput/python-queue and Throughput/python-pipe: Python's
// multiprocessing.Queue (bounded to the ring's capacity) and
// Pipe(duplex=False), a forked producer and the script's main process as
// consumer, b.N messages, driven by python/throughput.py.
func benchThroughputPython(b *testing.B, sz msgSize) {
	for _, system := range []string{"queue", "pipe"} {
		runPythonBench(b, "python-"+system+"/"+sz.name, []string{"msgs/s"}, "throughput.py",
			"--system", system, "--size", strconv.Itoa(sz.bytes), "--capacity", strconv.Itoa(sz.slots))
	}
}
