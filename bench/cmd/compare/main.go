// Command compare runs multiproc's benchmarks against what users would pick
// instead (channels, pipes, unix sockets, Python's multiprocessing) and
// reports the comparison: a Markdown table on standard output, and the raw
// results (JSON and the benchmark output), the table and a throughput plot
// (PNG and SVG) in bench/results/.
//
// Usage, from the module's root:
//
//	go run ./bench/cmd/compare -quick     # about a minute: a first look
//	go run ./bench/cmd/compare            # the full comparison: several minutes
//	go run ./bench/cmd/compare -publish   # also write bench/results-published/
//
// It compiles the bench package's test binary once (go test -c) and runs it
// round by round, every benchmark once per round, parsing the output with
// golang.org/x/perf/benchfmt. Each figure is the median over the rounds with
// its min–max, and each ratio to ringqueue is computed between two figures
// of the same round. Rounds interleave the systems in time, so that a load
// change on the machine hits every system rather than one.
//
// -input FILE re-renders saved results without running anything: a JSON
// result set (bench/results/*.json, keeping its machine and run details,
// with the raw output beside it if there) or a raw benchmark output (*.txt).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// run is the command: the table goes to stdout, progress to stderr.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "a short run (about a minute) instead of the full comparison")
	rounds := fs.Int("rounds", 0, "rounds (0: the mode's default, 3 quick / 5 full)")
	benchtime := fs.String("benchtime", "", "override every benchmark's -benchtime (e.g. 1s, 200ms)")
	bench := fs.String("bench", "", "override the -bench pattern (e.g. '^BenchmarkThroughput$/pipe')")
	outDir := fs.String("out", "", "where results go (default bench/results under the module root)")
	publish := fs.Bool("publish", false, "also write the results to bench/results-published/ (committed; the README shows them)")
	python := fs.String("python", "", "Python interpreter for the Python comparisons (default python3 on $PATH)")
	input := fs.String("input", "", "re-render saved results (a .json result set or a raw .txt output) instead of running the benchmarks")
	quiet := fs.Bool("q", false, "do not echo the benchmark output while it runs")
	var notes []string
	fs.Func("note", "a note on the conditions of the run, shown with the table (repeatable)", func(s string) error {
		notes = append(notes, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if *outDir == "" {
		*outDir = filepath.Join(root, "bench", "results")
	}
	pyName := *python
	if pyName == "" {
		pyName = "python3"
	}
	pyPath, _ := exec.LookPath(pyName)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	res := &Results{Version: resultsVersion, Started: time.Now(), Notes: configNotes}
	res.Machine = probeMachine(root, pyPath)
	var raw []byte
	var samples []Sample
	switch {
	case strings.HasSuffix(*input, ".json"):
		saved, err := readResults(*input)
		if err != nil {
			return err
		}
		// Keep how and where it was measured; recompute the rows.
		saved.Notes = configNotes
		res, samples = saved, saved.Samples
		if b, err := os.ReadFile(strings.TrimSuffix(*input, ".json") + ".txt"); err == nil {
			raw = b
		}
	case *input != "":
		raw, err = os.ReadFile(*input)
		if err != nil {
			return err
		}
		res.Mode, res.Commands = "input", []string{"parsed " + *input}
	default:
		p := fullPlan
		res.Mode = "full"
		if *quick {
			p, res.Mode = quickPlan, "quick"
		}
		if *rounds > 0 {
			p.Rounds = *rounds
		}
		if *bench != "" {
			p.Specs = []spec{{Bench: *bench, Benchtime: p.Specs[0].Benchtime}}
			res.Mode = "custom"
		}
		if *benchtime != "" {
			for i := range p.Specs {
				p.Specs[i].Benchtime = *benchtime
			}
			res.Mode = "custom"
		}
		res.Rounds, res.Benchtime = p.Rounds, p.benchtimes()
		log := stderr
		if *quiet {
			log = io.Discard
		}
		r := &runner{root: root, python: *python, log: log}
		tmp, err := os.MkdirTemp("", "multiproc-compare-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		build, err := r.build(ctx, tmp)
		if err != nil {
			return err
		}
		res.Commands = append(res.Commands, build)
		for _, s := range p.Specs {
			res.Commands = append(res.Commands, fmt.Sprintf("(%d rounds) %s", p.Rounds, s.commandLine()))
		}
		var buf bytes.Buffer
		for round := 1; round <= p.Rounds; round++ {
			fmt.Fprintf(log, "== round %d of %d\n", round, p.Rounds)
			for _, s := range p.Specs {
				if err := r.run(ctx, round, s, &buf); err != nil {
					return err
				}
			}
		}
		raw = buf.Bytes()
	}
	if samples == nil {
		if samples, err = parse(bytes.NewReader(raw), "benchmark output"); err != nil {
			return err
		}
	}
	if len(samples) == 0 {
		return errors.New("no benchmark results in the output")
	}
	if res.Rounds == 0 {
		for _, s := range samples {
			res.Rounds = max(res.Rounds, s.Round)
		}
	}
	res.Conditions = append(res.Conditions, notes...)
	res.Samples = samples
	res.Rows = summarize(samples)
	if res.Finished.IsZero() {
		res.Finished = time.Now()
	}

	if err := writeMarkdown(stdout, res); err != nil {
		return err
	}
	written, err := writeResults(*outDir, res, raw)
	if err != nil {
		return err
	}
	if *publish {
		pub, err := publishResults(filepath.Join(root, "bench", "results-published"), res, raw)
		if err != nil {
			return err
		}
		written = append(written, pub...)
	}
	fmt.Fprintf(stderr, "compare: wrote %s\n", strings.Join(written, ", "))
	return nil
}

// publishResults writes the result set under the stable names the README
// links to: results.md, results.json, results.txt, throughput.png/.svg.
func publishResults(dir string, res *Results, raw []byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	written, err := writeSet(dir, "results", res, raw)
	if err != nil {
		return written, err
	}
	// The plot under a name that says what it shows.
	var out []string
	for _, p := range written {
		switch filepath.Ext(p) {
		case ".png", ".svg":
			np := filepath.Join(dir, "throughput"+filepath.Ext(p))
			if err := os.Rename(p, np); err != nil {
				return out, err
			}
			p = np
		}
		out = append(out, p)
	}
	return out, nil
}
