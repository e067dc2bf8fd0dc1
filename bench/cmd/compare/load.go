package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Load: how busy the machine was around a run. The load averages at start
// and end are recorded, but the busy check does not rest on them: the
// one at the end includes the run's own processes (about two runnable
// most of the time), and the one at start is a minute's moving average,
// which a run just before this one keeps above the core count for a
// minute after it ended (a quick run right after another was warned as
// busy at load 2.3 while others took 1% of the CPU). The check is CPU
// time: what every CPU spent busy (/proc/stat, steal included: a
// hypervisor's other guests) minus what this command and its
// descendants spent (getrusage), from before the build to the end; the
// build's share alone gives the early warning.

// Load is the machine's load around a run, as recorded with the results.
type Load struct {
	Start string `json:"start"` // load average (1, 5, 15 min) before the build
	End   string `json:"end"`   // after the last round
	// Others is the share of all CPUs' time that processes other than the
	// run's took while it ran (0..1; -1 unknown).
	Others float64 `json:"others"`
	Busy   bool    `json:"busy"` // Others says the figures are unreliable
}

// busyShare is the share of CPU time others may take before a run counts
// as busy: a tenth of two cores is a compile or a test run nearby.
const busyShare = 0.10

// cpuSnap is a point in CPU time, in seconds.
type cpuSnap struct{ busy, total, ours float64 }

// snapCPU reads the system's and this process tree's CPU time.
func snapCPU() (cpuSnap, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSnap{}, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuSnap{}, false
	}
	var v [8]float64
	for i := range v {
		v[i], err = strconv.ParseFloat(f[i+1], 64)
		if err != nil {
			return cpuSnap{}, false
		}
	}
	// user nice system idle iowait irq softirq steal, in USER_HZ (100/s
	// on Linux whatever the kernel's HZ).
	const hz = 100
	s := cpuSnap{
		busy:  (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz,
		total: (v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]) / hz,
	}
	for _, who := range []int{unix.RUSAGE_SELF, unix.RUSAGE_CHILDREN} {
		var ru unix.Rusage
		if unix.Getrusage(who, &ru) == nil {
			s.ours += float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
		}
	}
	return s, true
}

// othersShare is the share of CPU time between a and b that was not ours.
func othersShare(a, b cpuSnap) float64 {
	total := b.total - a.total
	if total <= 0 {
		return -1
	}
	return min(max((b.busy-a.busy-(b.ours-a.ours))/total, 0), 1)
}

// loadAvg reads the three load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

// describe renders the load for the table's header.
func (l Load) describe() string {
	if l.Start == "" {
		return ""
	}
	s := fmt.Sprintf("Load average at start %s, at end %s (the run itself keeps about two processes runnable).", l.Start, orNone(l.End, "unknown"))
	if l.Others >= 0 {
		s += fmt.Sprintf(" Other processes took %.0f%% of the CPU time while it ran.", 100*l.Others)
	}
	return s
}

// warning is the busy machine's warning, or "".
func (l Load) warning() string {
	if !l.Busy {
		return ""
	}
	return fmt.Sprintf("**Warning: the machine was busy** (load average %s at start; others took %.0f%% of the CPU time during the run). Absolute figures are unreliable; ratios within a round less so. Rerun on a quiet machine.", l.Start, 100*max(l.Others, 0))
}
