package bench

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"
)

// The call RunOnce skips is the one testing throws away: with a count of
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
			if DiscardedProbe(b) {
				return
			}
			calls = append(calls, b.N)
			b.ReportMetric(float64(b.N), "n")
		})
		require.Equal(t, c.calls, calls, "benchtime %s", c.benchtime)
		require.Equal(t, c.calls[0], r.N, "benchtime %s: the reported run", c.benchtime)
		require.Equal(t, float64(c.calls[0]), r.Extra["n"], "benchtime %s: the reported metric", c.benchtime)

		testing.Benchmark(func(b *testing.B) {
			RunOnce(b, "sub", func(b *testing.B) { subCalls = append(subCalls, b.N) })
		})
		require.Equal(t, c.calls, subCalls, "benchtime %s: runOnce", c.benchtime)
	}

	// A duration: testing predicts b.N from the first call, which must run.
	require.NoError(t, f.Value.Set("1ms"))
	var first []bool
	testing.Benchmark(func(b *testing.B) {
		if len(first) == 0 {
			first = append(first, DiscardedProbe(b))
		}
	})
	require.Equal(t, []bool{false}, first)
}
