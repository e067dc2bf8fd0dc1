package bench

import (
	"flag"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
// runOnce runs such a benchmark so that the thrown-away call returns at
// once: the figure comes from one call, with its own fixture set up and
// warmed as before. With -benchtime 1x the first call is the figure, and
// with a duration (-benchtime 1s) testing predicts b.N from it: both run
// f every time, as b.Run does.
func runOnce(b *testing.B, name string, f func(b *testing.B)) bool {
	return b.Run(name, func(b *testing.B) {
		if discardedProbe(b) {
			return
		}
		f(b)
	})
}

// discardedProbe reports whether this call of a benchmark function is
// the b.N = 1 call that testing throws away: -test.benchtime is a count
// above one.
func discardedProbe(b *testing.B) bool {
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

// The call runOnce skips is the one testing throws away: with a count of
// 3 the function runs with b.N = 1, then 3, and the result is the second
// call's alone (its N, its metric). Were testing ever to keep the first
// call's figures, skipping it would report nothing: this fails first.
// With a count of 1, or a duration, nothing is skipped.
func TestRunOnceSkipsOnlyTheCallTestingThrowsAway(t *testing.T) {
	f := flag.Lookup("test.benchtime")
	require.NotNil(t, f)
	old := f.Value.String()
	t.Cleanup(func() { _ = f.Value.Set(old) })

	for _, c := range []struct {
		benchtime string
		calls     []int // b.N of the calls that ran the benchmark's body
	}{
		{"3x", []int{3}},
		{"1x", []int{1}},
	} {
		require.NoError(t, f.Value.Set(c.benchtime))
		var calls, subCalls []int
		r := testing.Benchmark(func(b *testing.B) {
			if discardedProbe(b) {
				return
			}
			calls = append(calls, b.N)
			b.ReportMetric(float64(b.N), "n")
		})
		require.Equal(t, c.calls, calls, "benchtime %s", c.benchtime)
		require.Equal(t, c.calls[0], r.N, "benchtime %s: the reported run", c.benchtime)
		require.Equal(t, float64(c.calls[0]), r.Extra["n"], "benchtime %s: the reported metric", c.benchtime)

		testing.Benchmark(func(b *testing.B) {
			runOnce(b, "sub", func(b *testing.B) { subCalls = append(subCalls, b.N) })
		})
		require.Equal(t, c.calls, subCalls, "benchtime %s: runOnce", c.benchtime)
	}

	// A duration: testing predicts b.N from the first call, which must run.
	require.NoError(t, f.Value.Set("1ms"))
	var first []bool
	testing.Benchmark(func(b *testing.B) {
		if len(first) == 0 {
			first = append(first, discardedProbe(b))
		}
	})
	require.Equal(t, []bool{false}, first)
}
