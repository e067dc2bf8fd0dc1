package main

import (
	"fmt"
	"math"
	"strings"
)

// Throughput/<system>/<size>: one producer process → one consumer process.
// Counts are set so that each benchmark runs for about 0.05–0.2 s on a
// quiet two-core machine at its usual rate (bench/results-published). A whole
// quick run measured 72-75 s there, builds (from a warm cache), start-ups
// and warm-ups included.
var (
	ringSystems = []string{"c-ring", "ringqueue-spsc", "ringqueue-spsc-batch", "ringqueue-mpmc", "ringqueue-typed", "chan"}
	small       = []string{"8B", "64B"}
)

var throughputSection = section{
	Group: "Throughput",
	Quick: []spec{
		{Bench: pattern("Throughput", ringSystems, small), Benchtime: "1000000x"},
		{Bench: pattern("Throughput", ringSystems, []string{"4KiB"}), Benchtime: "200000x"},
		{Bench: pattern("Throughput", ringSystems, []string{"64KiB"}), Benchtime: "10000x"},
		{Bench: pattern("Throughput", []string{"ringqueue-typed-gob"}, small), Benchtime: "100000x"},
		{Bench: pattern("Throughput", []string{"ringqueue-typed-gob"}, []string{"4KiB"}), Benchtime: "20000x"},
		{Bench: pattern("Throughput", []string{"ringqueue-typed-gob"}, []string{"64KiB"}), Benchtime: "2000x"},
		{Bench: pattern("Throughput", []string{"pipe", "socketpair"}, small), Benchtime: "50000x"},
		{Bench: pattern("Throughput", []string{"pipe", "socketpair"}, []string{"4KiB"}), Benchtime: "50000x"},
		{Bench: pattern("Throughput", []string{"pipe", "socketpair"}, []string{"64KiB"}), Benchtime: "5000x"},
		{Bench: pattern("Throughput", []string{"python-queue", "python-pipe"}, []string{"8B", "64B", "4KiB"}), Benchtime: "10000x"},
		{Bench: pattern("Throughput", []string{"python-queue", "python-pipe"}, []string{"64KiB"}), Benchtime: "2000x"},
	},
	Units: []string{"msgs/s"},
	Classify: func(parts []string) (string, string, string) {
		if len(parts) != 2 {
			return "", strings.Join(parts, "/"), ""
		}
		return parts[1], parts[0], "ringqueue-spsc"
	},
	Table: throughputTable,
}

func init() { throughputSection.Full = scaled(throughputSection.Quick, 4) }

// limitSystem is the C ring: the physical limit of the Throughput rows.
const limitSystem = "c-ring"

func throughputTable(b *strings.Builder, rows []Row) {
	b.WriteString("### Throughput: one producer process → one consumer process (msgs/s, higher is better)\n\n")
	if h := headline(rows); h != "" {
		b.WriteString(h)
	}
	b.WriteString("Ratio: the system's msgs/s ÷ ringqueue-spsc's, in the same round. c-ring is a minimal C SPSC ring between two processes over the same kind of mapping: the physical limit.\n\n")
	b.WriteString("| size | system | msgs/s | [min–max] | MB/s | ratio | verdict |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		mb := r.Median * sizeBytes(r.Family) / 1e6
		mbs := "–"
		if !math.IsInf(mb, 0) {
			mbs = fmt.Sprintf("%.0f", mb)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Family, r.System, si(r.Median), rangeOf(r.Stat, si), mbs, ratioCell(r), r.Verdict)
	}
	b.WriteString("\n")
}

// headline says, per size, what ringqueue-spsc reaches of the C ring: the
// inverse of the c-ring row's ratio, taken round by round.
func headline(rows []Row) string {
	var parts []string
	for _, r := range rows {
		if r.System != limitSystem || r.Ratio == nil || r.Ratio.Median <= 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s [%s–%s]", r.Family, times(1/r.Ratio.Median), times(1/r.Ratio.Max), times(1/r.Ratio.Min)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "**ringqueue-spsc ÷ the C ring (the physical limit), msgs/s in the same round: " + strings.Join(parts, ", ") + ".**\n\n"
}
