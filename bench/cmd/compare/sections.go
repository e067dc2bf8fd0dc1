package main

import (
	"fmt"
	"strings"
)

// A section is one benchmark group of the comparison: what it runs in
// each mode, how its benchmarks' names map to the rows compared with each
// other, and how its table is drawn. Adding a section is one file that
// defines it and one line in sections below.
type section struct {
	// Group is the benchmark group: BenchmarkGroup without "Benchmark";
	// its results are named Group/...
	Group string
	// Quick and Full are what the modes run each round. Every spec runs a
	// fixed number of operations ("Nx"): warm-up stays outside the timing
	// in the benchmarks themselves, and a count is stable where a
	// duration was not (a 20 ms window took one Python iteration).
	Quick, Full []spec
	// Units lists the units its table shows (others are kept in the JSON).
	Units []string
	// Classify names the row of a result from the parts of its name after
	// the group: its family (the rows compared with each other), system,
	// and the family's reference system ("" for none).
	Classify func(parts []string) (family, system, ref string)
	// Table draws the section's rows (never empty) as Markdown.
	Table func(b *strings.Builder, rows []Row)
	// Notes say how its systems were set up, under "How it was configured".
	Notes []string
	// Dir is the directory of its benchmarks' package, relative to the
	// module root ("": bench). A directory with its own go.mod (a nested
	// module, which the root module cannot import) is built there as its
	// own test binary; if that fails the section is skipped with a note.
	Dir string
	// MinIters is the fewest iterations a figure of it may be timed over
	// and still carry a verdict (0: minIters). A section whose operation
	// is a whole call of many items, milliseconds long, sets fewer.
	MinIters int
}

// allNotes is the configuration notes of the run: the common ones, then
// every section's.
func allNotes() []string {
	notes := append([]string(nil), configNotes...)
	for _, s := range sections {
		notes = append(notes, s.Notes...)
	}
	return notes
}

// sections, in the order their tables appear.
var sections = []*section{
	&throughputSection,
	&latencySection,
	&syncSection,
	&scaleSection,
	&managerSection,
	&distpoolSection,
	&pythonSection, // Python processes on multiproc objects (python/)
}

// sectionOf returns the section of a group, or nil.
func sectionOf(group string) *section {
	for _, s := range sections {
		if s.Group == group {
			return s
		}
	}
	return nil
}

// minItersOf is a group's MinIters.
func minItersOf(group string) int {
	if s := sectionOf(group); s != nil && s.MinIters > 0 {
		return s.MinIters
	}
	return minIters
}

// sectionRank orders groups by their section's place (unknown groups last).
func sectionRank(group string) int {
	for i, s := range sections {
		if s.Group == group {
			return i
		}
	}
	return len(sections)
}

// scaled returns specs with every "Nx" count multiplied by k.
func scaled(specs []spec, k int) []spec {
	out := make([]spec, len(specs))
	for i, s := range specs {
		var n int
		if _, err := fmt.Sscanf(s.Benchtime, "%dx", &n); err == nil && strings.HasSuffix(s.Benchtime, "x") {
			s.Benchtime = fmt.Sprintf("%dx", n*k)
		}
		out[i] = s
	}
	return out
}

// pattern builds a -bench pattern: the group, then one alternation per
// level of the sub-benchmark names (e.g. systems, sizes), each anchored.
func pattern(group string, levels ...[]string) string {
	p := "^Benchmark" + group + "$"
	for _, l := range levels {
		p += "/^(" + strings.Join(l, "|") + ")$"
	}
	return p
}
