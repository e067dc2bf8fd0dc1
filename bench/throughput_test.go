package bench

import "testing"

// BenchmarkThroughput: Throughput/<system>/<size>, one message per op,
// reporting msgs/s. Sizes are the outer loop so that every system of a size
// runs close together in time (a shared machine's load drifts).
func BenchmarkThroughput(b *testing.B) {
	cring, cerr := cringProgram(b)
	for _, sz := range msgSizes {
		benchThroughputC(b, cring, cerr, sz)
		benchThroughputRing(b, sz)
		benchThroughputTyped(b, sz)
		benchThroughputChan(b, sz)
		benchThroughputStream(b, sz)
		benchThroughputPython(b, sz)
	}
}
