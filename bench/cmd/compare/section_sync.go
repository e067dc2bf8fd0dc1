package main

import (
	"fmt"
	"slices"
	"strings"
)

// Sync/<primitive>: locks and counters, one operation per op.
var syncSection = section{
	Group: "Sync",
	Quick: []spec{
		{Bench: pattern("Sync", []string{"mutex", "sync.Mutex", "value-add", "atomic-add"}), Benchtime: "10000000x"},
		{Bench: pattern("Sync", []string{"mutex-2proc", "sync.Mutex-2goroutines", "value-add-2proc", "value-update-2proc", "atomic-add-2goroutines"}), Benchtime: "2000000x"},
		{Bench: pattern("Sync", []string{"python-lock", "python-lock-2proc", "python-value", "python-value-2proc"}), Benchtime: "100000x"},
	},
	Units: []string{"ops/s"},
	Classify: func(parts []string) (string, string, string) {
		if len(parts) != 1 {
			return "", strings.Join(parts, "/"), ""
		}
		for _, f := range syncFamilies {
			if slices.Contains(f, parts[0]) {
				return f[0], parts[0], f[0]
			}
		}
		return parts[0], parts[0], ""
	},
	Table: syncTable,
}

func init() { syncSection.Full = scaled(syncSection.Quick, 4) }

// syncFamilies groups the Sync benchmarks into what is compared with what,
// and names each family's reference (listed first): multiproc's primitive.
var syncFamilies = [][]string{
	{"mutex", "sync.Mutex", "python-lock"},
	{"mutex-2proc", "sync.Mutex-2goroutines", "python-lock-2proc"},
	{"value-add", "atomic-add", "python-value"},
	{"value-add-2proc", "value-update-2proc", "atomic-add-2goroutines", "python-value-2proc"},
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
