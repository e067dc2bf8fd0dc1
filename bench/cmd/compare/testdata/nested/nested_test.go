// Package nested is a module of its own, as distpool is: the compare
// command's tests build and run its benchmark in its directory.
package nested

import (
	"os"
	"testing"
)

// BenchmarkNested reports whether it ran in its own directory, where
// its testdata is.
func BenchmarkNested(b *testing.B) {
	for b.Loop() {
	}
	here := 0.0
	if _, err := os.Stat("here.txt"); err == nil {
		here = 1
	}
	b.ReportMetric(here, "here")
}
