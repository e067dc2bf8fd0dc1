package bench

import (
	"flag"
	"strconv"
	"strings"
	"testing"
)

// With -benchtime Nx, testing calls a benchmark function twice: first
// with b.N = 1 (B.run1, which learns whether the function has
// sub-benchmarks), then, unless N is 1, with b.N = N (B.launch); only the
// second call's figures are reported (golang.org/issue/32051). A
// benchmark that starts its fixture in every call (child processes, a
// server, an interpreter) paid for its start-up twice for one figure: in
// the compare command's quick plan, which counts every benchmark's
// operations, that was a good part of each round.
//
// RunOnce runs such a benchmark so that the thrown-away call returns at
// once: the figure comes from one call, with its own fixture set up and
// warmed as before. With -benchtime 1x the first call is the figure, and
// with a duration (-benchtime 1s) testing predicts b.N from it: both run
// f every time, as b.Run does.
func RunOnce(b *testing.B, name string, f func(b *testing.B)) bool {
	return b.Run(name, func(b *testing.B) {
		if DiscardedProbe(b) {
			return
		}
		f(b)
	})
}

// DiscardedProbe reports whether this call of a benchmark function is
// the b.N = 1 call that testing throws away: -test.benchtime is a count
// above one.
func DiscardedProbe(b *testing.B) bool {
	if b.N != 1 {
		return false
	}
	f := flag.Lookup("test.benchtime")
	if f == nil {
		return false
	}
	s := f.Value.String()
	n, err := strconv.Atoi(strings.TrimSuffix(s, "x"))
	return strings.HasSuffix(s, "x") && err == nil && n > 1
}
