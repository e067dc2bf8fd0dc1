package bench

import (
	"math"
	"slices"
	"time"
)

// percentile returns the q-quantile (0 < q <= 1) of sorted by the
// nearest-rank method: the smallest sample with at least q of the samples
// at or below it. It returns 0 for no samples.
func percentile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	// rank = ceil(q*n); the epsilon keeps 0.99*100 (98.99999...) or
	// 0.5*10 from landing one rank off through floating-point error.
	n := len(sorted)
	rank := int(math.Ceil(q*float64(n) - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// latencyPercentiles sorts durations (nanoseconds) in place and returns
// their p50 and p99.
func latencyPercentiles(ns []int64) (p50, p99 int64) {
	slices.Sort(ns)
	return percentile(ns, 0.50), percentile(ns, 0.99)
}

// rate returns n events over d as events per second (0 for d <= 0).
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
