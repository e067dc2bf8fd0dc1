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
	fmt.Fprintf(&b, "Measured %s on %s, %d cores (GOMAXPROCS %d), Linux %s, %s, %s.",
		res.Started.UTC().Format("2006-01-02 15:04 MST"), m.CPU, m.Cores, m.GOMAXPROCS, m.Kernel, m.Go, orNone(m.Python, "no Python"))
	if res.Load != nil {
		fmt.Fprintf(&b, " %s\n\n", res.Load.describe())
		if w := res.Load.warning(); w != "" {
			fmt.Fprintf(&b, "> %s\n\n", w)
		}
	} else {
		fmt.Fprintf(&b, " Load average at start: %s.\n\n", orNone(m.LoadAvg, "unknown"))
	}
	fmt.Fprintf(&b, "Mode %s: %d rounds, each running every benchmark once for a fixed count of operations (benchtime %s); each figure is the median of the rounds with [min–max]; each ratio is taken between two figures of the same round, then summarised the same way.", res.Mode, res.Rounds, res.Benchtime)
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
		if s := sectionOf(g); s != nil {
			s.Table(&b, groups[g])
			continue
		}
		genericTable(&b, g, groups[g])
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
