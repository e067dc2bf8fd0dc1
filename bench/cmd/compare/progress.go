package main

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// bar is the progress shown on standard error while benchmarks run (a
// spinner while the total is unknown), or nothing with -q or -v.
type bar struct{ bar *progressbar.ProgressBar }

func newBar(w io.Writer, off bool, max int, what string) bar {
	if off {
		return bar{}
	}
	return bar{progressbar.NewOptions(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

func (b bar) add(n int) {
	if b.bar != nil {
		_ = b.bar.Add(n)
	}
}

func (b bar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}
