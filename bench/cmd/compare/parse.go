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

// roundKey is the file-level configuration key that says which round the
// results that follow belong to. The runner writes "round: N" before each
// round's output, so a saved raw file parses back into the same rounds
// (the Go benchmark format carries "key: value" lines for this).
const roundKey = "round"

// parse reads Go benchmark output (with "round: N" lines between rounds;
// output without any is round 1) with x/perf's benchfmt reader and returns
// every figure. Lines that are not results (test logs, PASS, skips) are
// ignored, as benchfmt defines; a malformed result line is an error.
func parse(r io.Reader, fileName string) ([]Sample, error) {
	var out []Sample
	br := benchfmt.NewReader(r, fileName)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			round := 1
			if s := rec.GetConfig(roundKey); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 {
					f, line := rec.Pos()
					return nil, fmt.Errorf("%s:%d: bad %s %q", f, line, roundKey, s)
				}
				round = n
			}
			name := benchName(rec.Name)
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
