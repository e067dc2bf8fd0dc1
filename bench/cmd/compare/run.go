package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// A spec is one invocation of the benchmark binary per round: a -bench
// pattern and its benchtime.
type spec struct {
	Bench     string
	Benchtime string
}

// plans: what -quick and the full mode run. Quick keeps the whole set but
// short runs and a subset of Scale, so that it finishes within a minute on
// two cores; full runs everything long enough to settle.
var (
	quickPlan = plan{Rounds: 3, Specs: []spec{
		{`^BenchmarkThroughput$`, "20ms"},
		{`^Benchmark(Latency|Sync)$`, "20ms"},
		{`^BenchmarkScale$/^mpmc-(1x1|2x2|4x4|1x4|4x1)$`, "20ms"},
	}}
	fullPlan = plan{Rounds: 5, Specs: []spec{
		{`^Benchmark(Throughput|Latency|Sync|Scale)$`, "500ms"},
	}}
)

type plan struct {
	Rounds int
	Specs  []spec
}

// benchtimes lists a plan's benchtimes for the record.
func (p plan) benchtimes() string {
	var ts []string
	for _, s := range p.Specs {
		if !strings.Contains(strings.Join(ts, " "), s.Benchtime) {
			ts = append(ts, s.Benchtime)
		}
	}
	return strings.Join(ts, ", ")
}

// runner builds the bench test binary once and runs it round by round.
type runner struct {
	root   string    // module root
	bin    string    // compiled test binary
	python string    // interpreter for the Python comparisons ("" : the binary's default)
	log    io.Writer // progress: the raw output as it comes
}

// build compiles ./bench into a test binary in dir.
func (r *runner) build(ctx context.Context, dir string) (string, error) {
	r.bin = filepath.Join(dir, "bench.test")
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", r.bin, "./bench")
	cmd.Dir = r.root
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go test -c ./bench: %w", err)
	}
	return "go test -c -o bench.test ./bench", nil
}

// args returns the test binary's arguments for s.
func (s spec) args() []string {
	return []string{"-test.run", "^$", "-test.bench", s.Bench, "-test.benchtime", s.Benchtime, "-test.count", "1"}
}

// run runs one spec in one round and appends its output, preceded by the
// round's configuration line, to raw. The binary runs in the bench
// directory, where its Python scripts are.
func (r *runner) run(ctx context.Context, round int, s spec, raw *bytes.Buffer) error {
	fmt.Fprintf(raw, "%s: %d\n", roundKey, round)
	cmd := exec.CommandContext(ctx, r.bin, s.args()...)
	cmd.Dir = filepath.Join(r.root, "bench")
	cmd.Env = os.Environ()
	if r.python != "" {
		cmd.Env = append(cmd.Env, "MULTIPROC_BENCH_PYTHON="+r.python)
	}
	cmd.Stdout = io.MultiWriter(raw, r.log)
	cmd.Stderr = r.log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("round %d, %s: %w", round, s.Bench, err)
	}
	return nil
}

// commandLine renders how a spec is run, for the record.
func (s spec) commandLine() string {
	return "bench.test " + strings.Join(quoteArgs(s.args()), " ")
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " ^$|()*") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

// moduleRoot finds the module's root from the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module: run from the multiproc checkout")
	}
	return filepath.Dir(gomod), nil
}
