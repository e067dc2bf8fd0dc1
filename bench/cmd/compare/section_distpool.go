package main

import (
	"fmt"
	"strings"
)

// Distpool/<family>/<system>: distpool's Pool (two worker hosts of one
// worker process each, over an embedded NATS server) beside the local
// shared-memory Pool(2) and Python's multiprocessing.Pool(2), running the
// same function on the same items (distpool/bench_test.go). distpool is a
// nested module, which this one cannot import: its benchmarks are built
// and run in distpool/.
var distpoolSection = section{
	Group: "Distpool",
	Dir:   "distpool",
	// One invocation a round: each starts a server and two host
	// processes, a second or two, so the families share one count (each
	// p50 is still over 200 calls, see distpool's benchApply). A
	// distpool Map of 100 one-item tasks takes ~50 ms: 5 of each keep the
	// quick run's share under 15 s.
	Quick: []spec{
		{Bench: pattern("Distpool", []string{"apply", "map-chunk1", "map-chunked"}, []string{"local", "distpool", "python", "jetstream"}), Benchtime: "5x"},
	},
	MinIters: 5,
	Units:    []string{"items/s", "p50-µs"},
	Classify: func(parts []string) (string, string, string) {
		if len(parts) != 2 {
			return "", strings.Join(parts, "/"), ""
		}
		return parts[0], parts[1], "local"
	},
	Table: distpoolTable,
	Notes: []string{"Distpool: apply is one call's round trip (p50); map-chunk1 maps 100 ints one per task, map-chunked 100,000 ints in the default chunks (4 per worker). distpool runs two hosts of one worker process each over an embedded NATS server with JetStream on its file store (127.0.0.1); jetstream is the same bytes as map-chunked through the same kind of streams with no work: the floor distpool cannot beat."},
}

func init() { distpoolSection.Full = scaled(distpoolSection.Quick, 4) }

func distpoolTable(b *strings.Builder, rows []Row) {
	b.WriteString("### Distpool: the Pool API across machines, on NATS JetStream (items/s higher is better, p50 lower)\n\n")
	b.WriteString("Ratio: the system's figure ÷ the local shared-memory Pool's, in the same round.\n\n")
	b.WriteString("| call | system | figure | [min–max] | ratio | verdict |\n")
	b.WriteString("|---|---|---:|---:|---:|---|\n")
	for _, r := range rows {
		f, rng := si(r.Median)+" items/s", rangeOf(r.Stat, si)
		if r.Unit == "p50-µs" {
			f, rng = fmt.Sprintf("%.0f µs p50", r.Median), rangeOf(r.Stat, func(v float64) string { return fmt.Sprintf("%.0f", v) })
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", r.Family, r.System, f, rng, ratioCell(r), r.Verdict)
	}
	b.WriteString("\n")
}
