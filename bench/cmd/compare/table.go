package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Markdown rendering of a result set: the machine, how it was run, one
// table per group, and notes on configuration.

// writeMarkdown writes res as a Markdown document.
func writeMarkdown(w io.Writer, res *Results) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## multiproc benchmark results\n\n")
	m := res.Machine
	fmt.Fprintf(&b, "Measured %s on %s, %d cores (GOMAXPROCS %d), Linux %s, %s, %s. Load average at start: %s.\n\n",
		res.Started.UTC().Format("2006-01-02 15:04 MST"), m.CPU, m.Cores, m.GOMAXPROCS, m.Kernel, m.Go, orNone(m.Python, "no Python"), orNone(m.LoadAvg, "unknown"))
	fmt.Fprintf(&b, "Mode %s: %d rounds, each running every benchmark once (benchtime %s); each figure is the median of the rounds with [min–max]; each ratio is taken between two figures of the same round, then summarised the same way.", res.Mode, res.Rounds, res.Benchtime)
	if m.Commit != "" {
		fmt.Fprintf(&b, " Commit %s.", m.Commit)
	}
	b.WriteString("\n\n")
	for _, c := range res.Conditions {
		fmt.Fprintf(&b, "> %s\n\n", c)
	}

	rows := slices.Clone(res.Rows)
	sortRows(rows)
	groups := map[string][]Row{}
	var order []string
	for _, r := range rows {
		if _, ok := groups[r.Group]; !ok {
			order = append(order, r.Group)
		}
		groups[r.Group] = append(groups[r.Group], r)
	}
	for _, g := range order {
		switch g {
		case "Throughput":
			throughputTable(&b, groups[g])
		case "Latency":
			latencyTable(&b, groups[g])
		case "Sync":
			syncTable(&b, groups[g])
		case "Scale":
			scaleTable(&b, groups[g])
		default:
			genericTable(&b, g, groups[g])
		}
	}
	if len(res.Notes) > 0 {
		b.WriteString("### How it was configured\n\n")
		for _, n := range res.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func throughputTable(b *strings.Builder, rows []Row) {
	b.WriteString("### Throughput: one producer process → one consumer process (msgs/s, higher is better)\n\n")
	b.WriteString("Ratio: the system's msgs/s ÷ ringqueue-spsc's, in the same round.\n\n")
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

func syncTable(b *strings.Builder, rows []Row) {
	b.WriteString("### Sync: locks and counters (operations/s over all contenders, higher is better)\n\n")
	b.WriteString("Ratio: the primitive's ops/s ÷ the first of its family (multiproc's), in the same round.\n\n")
	b.WriteString("| primitive | ops/s | [min–max] | ns/op | ratio | verdict |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s | %s | %.1f | %s | %s |\n", r.System, si(r.Median), rangeOf(r.Stat, si), 1e9/r.Median, ratioCell(r), r.Verdict)
	}
	b.WriteString("\n")
}

// scaleTable shows Scale/mpmc-PxC as a matrix: producers down, consumers
// across, each cell the median msgs/s and its ratio to 1x1.
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
		genericTable(b, "Scale (other)", other)
	}
}

func genericTable(b *strings.Builder, group string, rows []Row) {
	fmt.Fprintf(b, "### %s\n\n| benchmark | unit | median | [min–max] |\n|---|---|---:|---:|\n", group)
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", r.Name, r.Unit, si(r.Median), rangeOf(r.Stat, si))
	}
	b.WriteString("\n")
}

func ratioCell(r Row) string {
	if r.Ratio == nil {
		return "–"
	}
	if r.Ratio.N > 1 && r.Ratio.Min != r.Ratio.Max {
		return fmt.Sprintf("%s [%s–%s]", plainRatio(r.Ratio.Median), plainRatio(r.Ratio.Min), plainRatio(r.Ratio.Max))
	}
	return plainRatio(r.Ratio.Median)
}

// plainRatio formats a ratio with three significant digits.
func plainRatio(f float64) string {
	switch {
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 10:
		return fmt.Sprintf("%.1f", f)
	case f >= 0.01:
		return fmt.Sprintf("%.2f", f)
	}
	return fmt.Sprintf("%.2g", f)
}

func rangeOf(s Stat, f func(float64) string) string {
	return fmt.Sprintf("[%s–%s]", f(s.Min), f(s.Max))
}

// si formats a rate with three significant digits and an SI prefix.
func si(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return sig3(v/1e9) + "G"
	case a >= 1e6:
		return sig3(v/1e6) + "M"
	case a >= 1e3:
		return sig3(v/1e3) + "k"
	}
	return sig3(v)
}

func sig3(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// dur formats nanoseconds: "850 ns", "4.71 µs", "3.38 ms".
func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return sig3(ns/1e6) + " ms"
	case ns >= 1e3:
		return sig3(ns/1e3) + " µs"
	}
	return sig3(ns) + " ns"
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
