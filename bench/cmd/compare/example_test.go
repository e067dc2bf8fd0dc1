package main

import (
	"fmt"
	"strings"
)

// Figures of two rounds become a median, a range, and a ratio to
// ringqueue taken round by round.
func Example() {
	out := `round: 1
BenchmarkThroughput/ringqueue-spsc/64KiB-2 	 1000 	 4000 ns/op 	 250000 msgs/s
BenchmarkThroughput/pipe/64KiB-2           	 1000 	 2000 ns/op 	 500000 msgs/s
round: 2
BenchmarkThroughput/ringqueue-spsc/64KiB-2 	 1000 	 5000 ns/op 	 200000 msgs/s
BenchmarkThroughput/pipe/64KiB-2           	 1000 	 2500 ns/op 	 400000 msgs/s
`
	samples, err := parse(strings.NewReader(out), "example")
	if err != nil {
		panic(err)
	}
	for _, r := range summarize(samples) {
		fmt.Printf("%s %s: %s %s, ratio %s: %s\n", r.Family, r.System, si(r.Median), rangeOf(r.Stat, si), plainRatio(r.Ratio.Median), r.Verdict)
	}
	// Output:
	// 64KiB ringqueue-spsc: 225k [200k–250k], ratio 1.00: reference
	// 64KiB pipe: 450k [400k–500k], ratio 2.00: **ringqueue-spsc loses**: pipe is 2.0× better
}
