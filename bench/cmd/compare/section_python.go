package main

import (
	"fmt"
	"strings"
)

// Python/<system>[/<size>]: a Python process on multiproc's objects (the
// package in python/) beside Python-to-Python multiprocessing, measured in
// the same run (bench/python_xlang_test.go).
var pythonSection = section{
	Group: "Python",
	Quick: []spec{
		{Bench: pattern("Python", []string{"ringqueue-put_many", "ringqueue-put"}, []string{"8B", "64B"}), Benchtime: "100000x"},
		// multiprocessing's Queue moves 70-90 k msgs/s: 15,000 take 0.2 s.
		{Bench: pattern("Python", []string{"mp-queue", "mp-pipe"}, []string{"8B", "64B"}), Benchtime: "15000x"},
		// The Go goroutine's share ends within milliseconds and the
		// Python process's takes 1.4 µs an op, with a fixed ~14 ms for
		// the phase where both contend: over 100,000 ops that fixed part
		// moved the figure by 15% (1.18-1.34 M ops/s against 1.49-1.52 M
		// over 400,000), so it runs 400,000; multiprocessing's agreed.
		{Bench: pattern("Python", []string{"counter-go\\+python"}), Benchtime: "400000x"},
		{Bench: pattern("Python", []string{"counter-mp-2proc"}), Benchtime: "100000x"},
	},
	Units: []string{"msgs/s", "ops/s"},
	Classify: func(parts []string) (string, string, string) {
		switch len(parts) {
		case 2:
			return "python→ " + parts[1], parts[0], "mp-queue"
		case 1:
			return "locked counter", parts[0], "counter-mp-2proc"
		}
		return "", strings.Join(parts, "/"), ""
	},
	Table: pythonTable,
	Notes: []string{"Python: ringqueue rows are a Python producer (python/multiproc, put_many in batches of 256 or one put per message) into a Go consumer on an SPSC ring of 1024 slots; mp-queue and mp-pipe are multiprocessing.Queue(maxsize=1024) and Pipe(duplex=False) between two Python processes (fork); the counter is \"+= 1\" under the value's lock, a Go goroutine and a Python process contending (ops over both), against multiprocessing.Value under get_lock() in two Python processes."},
}

func init() { pythonSection.Full = scaled(pythonSection.Quick, 4) }

func pythonTable(b *strings.Builder, rows []Row) {
	b.WriteString("### Python: a Python process on multiproc's queue and lock, against multiprocessing (higher is better)\n\n")
	b.WriteString("Ratio: the system's rate ÷ multiprocessing's (Queue for messages, Value under its lock for the counter), in the same round.\n\n")
	b.WriteString("| family | system | rate | [min–max] | µs/op | ratio | verdict |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s | %s %s | %s | %.2f | %s | %s |\n", r.Family, r.System, si(r.Median), r.Unit, rangeOf(r.Stat, si), 1e6/r.Median, ratioCell(r), r.Verdict)
	}
	b.WriteString("\n")
}
