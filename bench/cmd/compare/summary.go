package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// A Stat is the median of some figures with their range.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// stat summarises vs (which it sorts); the zero Stat for none.
func stat(vs []float64) Stat {
	if len(vs) == 0 {
		return Stat{}
	}
	slices.Sort(vs)
	n := len(vs)
	m := vs[n/2]
	if n%2 == 0 {
		m = (vs[n/2-1] + vs[n/2]) / 2
	}
	return Stat{Median: m, Min: vs[0], Max: vs[n-1], N: n}
}

// A Row is one system's figure for one unit in one comparison.
type Row struct {
	Group  string `json:"group"`  // Throughput, Latency, Sync, Scale, or the benchmark's base name
	Family string `json:"family"` // the rows compared with each other: the size for Throughput, a Sync family, ...
	System string `json:"system"` // e.g. pipe, python-lock, mpmc-2x2
	Name   string `json:"name"`   // the benchmark's name
	Unit   string `json:"unit"`
	Higher bool   `json:"higher_is_better"`
	Stat
	// Ref is the system this row is compared with (empty: none); Ratio is
	// this row's figure divided by Ref's, computed in each round from the
	// two figures of that round, then summarised over the rounds.
	Ref     string `json:"ref,omitempty"`
	Ratio   *Stat  `json:"ratio,omitempty"`
	Verdict string `json:"verdict,omitempty"`
}

// higherIsBetter: rates are; latencies and ns/op are not.
func higherIsBetter(unit string) bool {
	return strings.HasSuffix(unit, "/s")
}

// classify places a benchmark name in its group and family and names its
// system and the family's reference system.
func classify(name string) (group, family, system, ref string) {
	parts := strings.Split(name, "/")
	group = parts[0]
	if s := sectionOf(group); s != nil {
		family, system, ref = s.Classify(parts[1:])
		return group, family, system, ref
	}
	return group, "", strings.Join(parts[1:], "/"), ""
}

// summarize turns samples into rows: for every benchmark and unit its
// median and range over the rounds, and its ratio to its family's
// reference computed round by round.
func summarize(samples []Sample) []Row {
	type key struct{ name, unit string }
	type rkey struct {
		group, family, system, unit string
		round                       int
	}
	byKey := map[key][]float64{}
	fewest := map[key]int{} // fewest iterations of any round
	var order []key
	byRound := map[rkey]float64{}
	for _, s := range samples {
		group, family, system, _ := classify(s.Name)
		if sec := sectionOf(group); sec != nil && !slices.Contains(sec.Units, s.Unit) {
			continue
		}
		k := key{s.Name, s.Unit}
		if _, seen := byKey[k]; !seen {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], s.Value)
		if n, ok := fewest[k]; !ok || s.Iters < n {
			fewest[k] = s.Iters
		}
		byRound[rkey{group, family, system, s.Unit, s.Round}] = s.Value
	}
	var rows []Row
	for _, k := range order {
		group, family, system, ref := classify(k.name)
		r := Row{Group: group, Family: family, System: system, Name: k.name, Unit: k.unit,
			Higher: higherIsBetter(k.unit), Stat: stat(byKey[k])}
		if ref != "" {
			var ratios []float64
			for rk, v := range byRound {
				if rk.group != group || rk.family != family || rk.system != system || rk.unit != k.unit {
					continue
				}
				base, ok := byRound[rkey{group, family, ref, k.unit, rk.round}]
				if ok && base > 0 {
					ratios = append(ratios, v/base)
				}
			}
			if len(ratios) > 0 {
				st := stat(ratios)
				r.Ref, r.Ratio = ref, &st
				r.Verdict = verdict(r)
				if fewest[k] < minItersOf(group) && r.System != r.Ref {
					r.Verdict = fmt.Sprintf("no verdict: timed over %d iterations", fewest[k])
				}
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// minIters is the fewest iterations a figure may be timed over and still
// carry a verdict: fewer measure start-up and wake-ups, not the system
// (a Python lock timed over one iteration read 62 ops/s, 4.7 M over many).
const minIters = 100

// verdict says in words who wins a row's comparison with its reference,
// plainly when the reference loses. A comparison whose per-round ratios
// fall on both sides of 1 is a tie within noise.
func verdict(r Row) string {
	if r.Ratio == nil {
		return ""
	}
	if r.System == r.Ref {
		return "reference"
	}
	if r.System == limitSystem {
		return fmt.Sprintf("the physical limit: %s reaches %s of it", r.Ref, times(1/r.Ratio.Median))
	}
	if ours(r.System) {
		// Another way to use multiproc itself: not a contest.
		return fmt.Sprintf("multiproc variant: %s the reference", times(r.Ratio.Median))
	}
	// refAdvantage > 1 means the reference did better in that round.
	adv := func(ratio float64) float64 {
		if ratio <= 0 {
			return math.Inf(1)
		}
		if r.Higher {
			return 1 / ratio
		}
		return ratio
	}
	lo, mid, hi := adv(r.Ratio.Max), adv(r.Ratio.Median), adv(r.Ratio.Min)
	if !r.Higher {
		lo, hi = hi, lo
	}
	switch {
	case lo > 1:
		return fmt.Sprintf("%s wins (%s)", r.Ref, times(mid))
	case hi < 1:
		return fmt.Sprintf("**%s loses**: %s is %s better", r.Ref, r.System, times(1/mid))
	}
	return "tie within noise (rounds disagree)"
}

// ours says whether a system is multiproc itself (a variant of the
// reference, such as another wait policy or batching) rather than an
// alternative to it.
func ours(system string) bool {
	if strings.HasPrefix(system, "ringqueue") || strings.HasPrefix(system, "mpmc-") {
		return true
	}
	switch strings.TrimSuffix(system, "-2proc") {
	case "mutex", "value-add", "value-update":
		return true
	}
	return false
}

// times formats a factor: "1.3×", "38×".
func times(f float64) string {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return "∞×"
	case f >= 10:
		return fmt.Sprintf("%.0f×", f)
	case f >= 1.995:
		return fmt.Sprintf("%.1f×", f)
	}
	return fmt.Sprintf("%.2f×", f)
}

// sortRows orders rows for the tables: by group (known groups first, in
// their natural order), family, then as they appeared.
func sortRows(rows []Row) {
	slices.SortStableFunc(rows, func(a, b Row) int {
		if c := cmp.Compare(sectionRank(a.Group), sectionRank(b.Group)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		if a.Group == "Throughput" {
			return cmp.Compare(sizeBytes(a.Family), sizeBytes(b.Family))
		}
		return 0
	})
}

// sizeBytes parses a Throughput size name: "8B", "64B", "4KiB", "64KiB",
// "1MiB". Unknown names sort last.
func sizeBytes(s string) float64 {
	mult := 1.0
	num := s
	switch {
	case strings.HasSuffix(s, "KiB"):
		mult, num = 1<<10, strings.TrimSuffix(s, "KiB")
	case strings.HasSuffix(s, "MiB"):
		mult, num = 1<<20, strings.TrimSuffix(s, "MiB")
	case strings.HasSuffix(s, "B"):
		num = strings.TrimSuffix(s, "B")
	default:
		return math.Inf(1)
	}
	var n float64
	if _, err := fmt.Sscanf(num, "%g", &n); err != nil || n <= 0 {
		return math.Inf(1)
	}
	return n * mult
}
