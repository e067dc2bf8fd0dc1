package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// A Sample is one figure of one benchmark in one round.
type Sample struct {
	Round int     `json:"round"`
	Name  string  `json:"name"` // e.g. "Throughput/pipe/64B": no "Benchmark", no -GOMAXPROCS
	Unit  string  `json:"unit"` // e.g. "msgs/s", "p50-ns", "ns/op"
	Value float64 `json:"value"`
	Iters int     `json:"iters"`
}

// roundKey is a file-level configuration key that says which round the
// results that follow belong to ("round: N"), as earlier versions of this
// command wrote it. Output without it is told apart into rounds by each
// benchmark's occurrences: the n-th result of a name is round n, which is
// how a round-by-round run reads and how `go test -count` writes. The
// runner writes no such key any more: benchstat would take a key that
// changes for a configuration and split every comparison by round.
const roundKey = "round"

// parse reads Go benchmark output with x/perf's benchfmt reader and
// returns every figure, each with its round (see roundKey). Lines that are
// not results (test logs, PASS, skips) are ignored, as benchfmt defines; a
// malformed result line is an error.
func parse(r io.Reader, fileName string) ([]Sample, error) {
	var out []Sample
	seen := map[string]int{}
	br := benchfmt.NewReader(r, fileName)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			name := benchName(rec.Name)
			seen[name]++
			round := seen[name]
			if s := rec.GetConfig(roundKey); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 {
					f, line := rec.Pos()
					return nil, fmt.Errorf("%s:%d: bad %s %q", f, line, roundKey, s)
				}
				round = n
			}
			for _, v := range rec.Values {
				// The reader tidies units ("ns/op" becomes "sec/op",
				// "p50-ns" "p50-sec"); keep them as the benchmark
				// reported them, which is how the tables show them.
				unit, val := v.Unit, v.Value
				if v.OrigUnit != "" {
					unit, val = v.OrigUnit, v.OrigValue
				}
				out = append(out, Sample{Round: round, Name: name, Unit: unit, Value: val, Iters: rec.Iters})
			}
		}
	}
	if err := br.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// benchName turns "BenchmarkThroughput/pipe/64B-2" into
// "Throughput/pipe/64B": the base name without its "Benchmark" prefix and
// the sub-benchmark parts without the GOMAXPROCS suffix (benchfmt gives
// that suffix as a separate part starting with '-').
func benchName(n benchfmt.Name) string {
	base, parts := n.Parts()
	var b strings.Builder
	b.Write(bytes.TrimPrefix(base, []byte("Benchmark")))
	for _, p := range parts {
		if len(p) > 0 && p[0] == '-' {
			continue
		}
		b.Write(p)
	}
	return b.String()
}
