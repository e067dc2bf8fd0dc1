package main

import (
	"fmt"
	"strings"
)

// Scale/mpmc-<P>x<C>: P producer and C consumer processes on one MPMC
// ring; Scale/chan-4x4: four producer and four consumer goroutines on a
// buffered channel, the reference a Go programmer has in one process.
var scaleSection = section{
	Group: "Scale",
	// A million messages a cell: with more processes than cores, the
	// scheduler starts the last of them up to ~7 ms after the first and
	// ends them as unevenly (measured at 4x4), and over 300,000 messages
	// that cost a third of the figure (4x4: 5.0-5.6 M msgs/s against
	// 7.3-7.7 M over 1.2 and 4 million; 1x1 did not move).
	Quick: []spec{{Bench: pattern("Scale", []string{`mpmc-[1-4]x[1-4]`, "chan-4x4"}), Benchtime: "1000000x"}},
	Units: []string{"msgs/s"},
	Classify: func(parts []string) (string, string, string) {
		if len(parts) != 1 {
			return "", strings.Join(parts, "/"), ""
		}
		return "", parts[0], "mpmc-1x1"
	},
	Table: scaleTable,
}

func init() { scaleSection.Full = scaled(scaleSection.Quick, 4) }

// scaleTable shows Scale/mpmc-PxC as a matrix: producers down, consumers
// across, each cell the median msgs/s and its ratio to 1x1; other rows
// (the channel reference) follow.
func scaleTable(b *strings.Builder, rows []Row) {
	b.WriteString("### Scale: P producer and C consumer processes on one MPMC ring, 64 B messages (msgs/s; ratio to 1×1 in the same round)\n\n")
	cells := map[[2]int]Row{}
	maxP, maxC := 0, 0
	var other []Row
	for _, r := range rows {
		var p, c int
		if _, err := fmt.Sscanf(r.System, "mpmc-%dx%d", &p, &c); err != nil || p < 1 || c < 1 {
			other = append(other, r)
			continue
		}
		cells[[2]int{p, c}] = r
		maxP, maxC = max(maxP, p), max(maxC, c)
	}
	if len(cells) > 0 {
		b.WriteString("| producers ╲ consumers |")
		for c := 1; c <= maxC; c++ {
			fmt.Fprintf(b, " %d |", c)
		}
		b.WriteString("\n|---|")
		for c := 1; c <= maxC; c++ {
			b.WriteString("---:|")
		}
		b.WriteString("\n")
		for p := 1; p <= maxP; p++ {
			fmt.Fprintf(b, "| %d |", p)
			for c := 1; c <= maxC; c++ {
				r, ok := cells[[2]int{p, c}]
				switch {
				case !ok:
					b.WriteString(" – |")
				case r.Ratio != nil && r.System != r.Ref:
					fmt.Fprintf(b, " %s (%s) |", si(r.Median), times(r.Ratio.Median))
				default:
					fmt.Fprintf(b, " %s |", si(r.Median))
				}
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	if len(other) > 0 {
		b.WriteString("| reference | msgs/s | [min–max] | ratio to mpmc-1×1 |\n|---|---:|---:|---:|\n")
		for _, r := range other {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", r.System, si(r.Median), rangeOf(r.Stat, si), ratioCell(r))
		}
		b.WriteString("\n")
	}
}
