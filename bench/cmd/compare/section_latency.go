package main

import (
	"fmt"
	"strings"
)

// Latency/<system>: ping-pong round trips between two processes.
var latencySection = section{
	Group: "Latency",
	Quick: []spec{
		{Bench: pattern("Latency", []string{"ringqueue", "ringqueue-paced", "ringqueue-yield"}), Benchtime: "10000x"},
		{Bench: pattern("Latency", []string{"ringqueue-park", "socketpair", "python-pipe"}), Benchtime: "3000x"},
	},
	Units: []string{"p50-ns", "p99-ns"},
	Classify: func(parts []string) (string, string, string) {
		if len(parts) != 1 {
			return "", strings.Join(parts, "/"), ""
		}
		return "", parts[0], "ringqueue"
	},
	Table: latencyTable,
}

func init() { latencySection.Full = scaled(latencySection.Quick, 4) }

func latencyTable(b *strings.Builder, rows []Row) {
	b.WriteString("### Latency: ping-pong round trip between two processes (lower is better)\n\n")
	b.WriteString("Ratio: the system's percentile ÷ ringqueue's, in the same round.\n\n")
	b.WriteString("| system | percentile | round trip | [min–max] | ratio | verdict |\n")
	b.WriteString("|---|---|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", r.System, strings.TrimSuffix(r.Unit, "-ns"), dur(r.Median), rangeOf(r.Stat, dur), ratioCell(r), r.Verdict)
	}
	b.WriteString("\n")
}
