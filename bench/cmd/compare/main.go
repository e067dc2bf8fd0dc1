// Command compare runs multiproc's benchmarks against what users would pick
// instead (channels, pipes, unix sockets, Python's multiprocessing) and
// reports the comparison: a Markdown table on standard output, and the raw
// results (JSON and the benchmark output), the table and a throughput plot
// (PNG and SVG) in bench/results/.
//
// Usage, from the module's root:
//
//	go run ./bench/cmd/compare -quick     # about 80 s (quiet 2 cores): a first look
//	go run ./bench/cmd/compare            # the full comparison: about five minutes
//	go run ./bench/cmd/compare -publish   # also write bench/results-published/
//
// It compiles the bench package's test binary once (go test -c) and the C
// ring (the physical limit, with the system's cc if there is one) and runs
// them round by round, every benchmark once per round for a fixed number
// of operations, showing progress, and parses the output with
// golang.org/x/perf/benchfmt. Each figure is the median over the rounds with
// its min–max, and each ratio to ringqueue is computed between two figures
// of the same round. Rounds interleave the systems in time, so that a load
// change on the machine hits every system rather than one.
//
// The raw output (bench/results/*.txt) is plain `go test -bench` output, a
// sample per round: compare two commits with
//
//	benchstat old.txt new.txt
//
// The table's header gives the load average at start and end and the
// share of CPU time other processes took; a busy machine is warned about
// there, in the plot's title and on standard error. The command's last
// lines say where the raw output, the table, the JSON and the plot are.
//
// Each benchmark group is a section (sections.go: what it runs in each
// mode, how its rows compare, its table); adding one is a file that
// defines it and a line in the list. A section's benchmarks may live in
// another directory, a nested module even (distpool's, which this module
// cannot import): its test binary is built and run there, and if it does
// not build the section is skipped with a note.
//
// -input FILE re-renders saved results without running anything: a JSON
// result set (bench/results/*.json, keeping its machine and run details,
// with the raw output beside it if there) or a raw benchmark output (*.txt).
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/multiproc-go/multiproc/bench"
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
	quick := fs.Bool("quick", false, "a short run (about 80 s on a quiet two-core machine) instead of the full comparison (about five minutes)")
	rounds := fs.Int("rounds", 0, "rounds: every benchmark once per round (0: the mode's default, 3 quick / 5 full)")
	fs.IntVar(rounds, "count", 0, "the same as -rounds, as go test calls it: benchstat needs several to compare two commits")
	benchtime := fs.String("benchtime", "", "override every benchmark's -benchtime (e.g. 100000x, 1s)")
	benchPat := fs.String("bench", "", "override the -bench pattern (e.g. '^BenchmarkThroughput$/pipe')")
	outDir := fs.String("out", "", "where results go (default bench/results under the module root)")
	publish := fs.Bool("publish", false, "also write the results to bench/results-published/ (committed; the README shows them)")
	python := fs.String("python", "", "Python interpreter for the Python comparisons (default python3 on $PATH)")
	input := fs.String("input", "", "re-render saved results (a .json result set or a raw .txt output) instead of running the benchmarks")
	quiet := fs.Bool("q", false, "no progress bar")
	verbose := fs.Bool("v", false, "echo the benchmark output as it comes instead of a progress bar")
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
	// Resolved once, here, and handed to every benchmark binary: a
	// version manager's shim costs 0.6 CPU-seconds a start (see
	// bench.ResolvePython).
	pyPath, _ := bench.ResolvePython(pyName)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	res := &Results{Version: resultsVersion, Started: time.Now(), Notes: allNotes()}
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
		saved.Notes = allNotes()
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
		p := planFor(*quick)
		res.Mode = "full"
		if *quick {
			res.Mode = "quick"
		}
		if *rounds > 0 {
			p.Rounds = *rounds
		}
		if *benchPat != "" {
			bt := "1s"
			if *benchtime != "" {
				bt = *benchtime
			}
			p.Specs = []spec{{Bench: *benchPat, Benchtime: bt}}
			res.Mode = "custom"
		}
		if *benchtime != "" {
			for i := range p.Specs {
				p.Specs[i].Benchtime = *benchtime
			}
			res.Mode = "custom"
		}
		r := &runner{root: root, python: cmp.Or(pyPath, *python)}
		if *verbose {
			r.verbose = stderr
		}
		if raw, err = measure(ctx, r, p, res, stderr, !*quiet && !*verbose); err != nil {
			return err
		}
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
	// The last lines: where everything is, one per line.
	fmt.Fprintln(stdout)
	for _, k := range []struct{ what, ext string }{{"raw (benchstat)", ".txt"}, {"table", ".md"}, {"json", ".json"}, {"plot", ".png"}} {
		if p := pick(written, ext(k.ext)); p != "" {
			fmt.Fprintf(stdout, "%s: %s\n", k.what, p)
		}
	}
	return nil
}

// ext matches paths ending in e, preferring the timestamped set over
// latest.* (which is a copy).
func ext(e string) func(string) bool {
	return func(p string) bool { return strings.HasSuffix(p, e) }
}

// pick returns the first of paths that ok accepts, "" for none.
func pick(paths []string, ok func(string) bool) string {
	for _, p := range paths {
		if ok(p) {
			return p
		}
	}
	return ""
}

// measure builds the benchmarks and runs plan p's rounds with r,
// recording in res how, and how busy the machine was; it returns the raw
// output. Progress goes to stderr, as a bar if showBar.
func measure(ctx context.Context, r *runner, p plan, res *Results, stderr io.Writer, showBar bool) ([]byte, error) {
	res.Rounds, res.Benchtime = p.Rounds, p.benchtimes()
	// The load before anything of ours runs: the build is ours too. The
	// CPU time others take is counted from here, the build included: it
	// is what says whether the machine was busy (see Load).
	load := &Load{Start: loadAvg(), Others: -1}
	before, haveCPU := snapCPU()
	tmp, err := os.MkdirTemp("", "multiproc-compare-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	buildStart := time.Now()
	spin := newBar(stderr, !showBar, -1, "building the benchmarks (go test -c, cc)")
	// The other directories build beside bench: each build is mostly one
	// link, and two run in about the time of one on two cores.
	dirs := p.dirs()
	type built struct {
		bin, cmd string
		err      error
	}
	others := make([]built, len(dirs))
	var wg sync.WaitGroup
	for i, dir := range dirs {
		wg.Go(func() {
			b := &others[i]
			b.bin, b.cmd, b.err = r.buildDir(ctx, dir, tmp)
		})
	}
	cmds, note, err := r.build(ctx, tmp)
	wg.Wait()
	if err != nil {
		spin.finish()
		return nil, err
	}
	// A section in another directory (a nested module) that does not
	// build is skipped, with a note: the others still run.
	var skipped []string
	r.bins = map[string]string{}
	for i, dir := range dirs {
		if b := others[i]; b.err != nil {
			if ctx.Err() != nil {
				spin.finish()
				return nil, ctx.Err()
			}
			p = p.without(dir)
			skipped = append(skipped, fmt.Sprintf("The benchmarks in %s were skipped: %v", dir, b.err))
		} else {
			r.bins[dir] = b.bin
			cmds = append(cmds, b.cmd)
		}
	}
	spin.finish()
	fmt.Fprintf(stderr, "compare: built in %.1f s\n", time.Since(buildStart).Seconds())
	for _, n := range skipped {
		res.Conditions = append(res.Conditions, n)
		fmt.Fprintln(stderr, "compare:", n)
	}
	if note != "" {
		res.Conditions = append(res.Conditions, note)
		fmt.Fprintln(stderr, "compare:", note)
	}
	res.Commands = append(res.Commands, cmds...)
	for _, s := range p.Specs {
		res.Commands = append(res.Commands, fmt.Sprintf("(%d rounds) %s", p.Rounds, s.commandLine()))
	}
	if built, ok := snapCPU(); ok && haveCPU {
		if o := othersShare(before, built); o > busyShare {
			fmt.Fprintf(stderr, "compare: warning: the machine is busy (others took %.0f%% of the CPU time while the benchmarks built): figures will be unreliable\n", 100*o)
		}
	}
	var buf bytes.Buffer
	// Round 1 shows a spinner: how many results a round gives is known
	// only once one has run (skips, sections without a system).
	roundsStart := time.Now()
	bar := newBar(stderr, !showBar, -1, "round 1")
	r.bar = bar.bar
	for round := 1; round <= p.Rounds; round++ {
		for _, s := range p.Specs {
			if err := r.run(ctx, round, s, &buf); err != nil {
				bar.finish()
				return nil, err
			}
		}
		if round == 1 {
			perRound := strings.Count("\n"+buf.String(), "\nBenchmark")
			bar.finish()
			bar = newBar(stderr, !showBar, perRound*p.Rounds, "round 2")
			bar.add(perRound)
			r.bar = bar.bar
		}
	}
	bar.finish()
	fmt.Fprintf(stderr, "compare: %d rounds in %.1f s\n", p.Rounds, time.Since(roundsStart).Seconds())
	load.End = loadAvg()
	if after, ok := snapCPU(); ok && haveCPU {
		load.Others = othersShare(before, after)
	}
	load.Busy = load.Others > busyShare
	res.Load = load
	if load.Busy {
		fmt.Fprintln(stderr, "compare:", strings.ReplaceAll(load.warning(), "**", ""))
	}
	return buf.Bytes(), nil
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
