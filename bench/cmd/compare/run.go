package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/multiproc-go/multiproc/bench"
	"github.com/schollz/progressbar/v3"
)

// A spec is one invocation of the benchmark binary per round: a -bench
// pattern and its benchtime (a count of operations, "Nx"), and the
// directory of the package whose binary it runs (its section's Dir, set
// by planFor; "": bench).
type spec struct {
	Bench     string
	Benchtime string
	Dir       string
}

type plan struct {
	Rounds int
	Specs  []spec
}

// planFor returns what a mode runs: every section's specs, quick (3
// rounds) or full (5 rounds of four times the operations). On a quiet
// two-core machine quick mode took 72-75 s from a warm build cache, 90 s
// right after a code change (bench rebuilt) and 212 s from an empty one
// (nats-server compiled: an 80 s build); full mode 282-315 s.
func planFor(quick bool) plan {
	p := plan{Rounds: 5}
	if quick {
		p.Rounds = 3
	}
	for _, s := range sections {
		specs := s.Full
		if quick {
			specs = s.Quick
		}
		for _, sp := range specs {
			sp.Dir = s.Dir
			p.Specs = append(p.Specs, sp)
		}
	}
	return p
}

// without returns p without the specs run in dir.
func (p plan) without(dir string) plan {
	q := plan{Rounds: p.Rounds}
	for _, s := range p.Specs {
		if s.Dir != dir {
			q.Specs = append(q.Specs, s)
		}
	}
	return q
}

// dirs lists the package directories other than bench that p's specs
// run in, in order.
func (p plan) dirs() []string {
	var ds []string
	for _, s := range p.Specs {
		if s.Dir != "" && !slices.Contains(ds, s.Dir) {
			ds = append(ds, s.Dir)
		}
	}
	return ds
}

// benchtimes lists a plan's benchtimes for the record.
func (p plan) benchtimes() string {
	var ts []string
	seen := map[string]bool{}
	for _, s := range p.Specs {
		if !seen[s.Benchtime] {
			seen[s.Benchtime] = true
			ts = append(ts, s.Benchtime)
		}
	}
	return strings.Join(ts, ", ")
}

// runner builds the bench test binary (and one per other package
// directory a section names) once and runs them round by round.
type runner struct {
	root    string            // module root
	bin     string            // compiled test binary of bench
	bins    map[string]string // compiled test binaries of other directories
	cring   string            // compiled C ring ("" : none; the benchmark then skips or builds its own)
	python  string            // interpreter for the Python comparisons ("" : the binary's default)
	verbose io.Writer         // the raw output as it comes (-v), or nil
	bar     *progressbar.ProgressBar
}

// build compiles ./bench into a test binary in dir, and the C ring if
// there is a C compiler; it returns how, for the record, and a note when
// the C ring cannot be built.
func (r *runner) build(ctx context.Context, dir string) (cmds []string, note string, err error) {
	r.bin = filepath.Join(dir, "bench.test")
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", r.bin, "./bench")
	cmd.Dir = r.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, "", fmt.Errorf("go test -c ./bench: %w\n%s", err, out)
	}
	cmds = append(cmds, "go test -c -o bench.test ./bench")
	src := filepath.Join(r.root, "bench", "cring", "spsc.c")
	switch p, err := bench.BuildCRing(ctx, src, dir); {
	case errors.Is(err, bench.ErrNoCC):
		note = "No C compiler: the C ring (the physical limit) was not built; its rows are missing. " + err.Error()
	case err != nil:
		return cmds, "", err
	default:
		r.cring = p
		cmds = append(cmds, "cc -O2 -std=gnu11 -o spsc bench/cring/spsc.c")
	}
	return cmds, note, nil
}

// buildDir compiles the benchmarks of dir (relative to the root) into a
// test binary in tmp with go test -c run in that directory, so that a
// nested module builds as itself, with its own go.mod; it returns the
// binary and the command, for the record. It runs beside build: it
// touches nothing of r's.
func (r *runner) buildDir(ctx context.Context, dir, tmp string) (bin, cmdLine string, err error) {
	bin = filepath.Join(tmp, strings.ReplaceAll(dir, "/", "_")+".test")
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".")
	cmd.Dir = filepath.Join(r.root, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go test -c in %s: %w\n%s", dir, err, lastLines(string(out), 10))
	}
	return bin, fmt.Sprintf("(cd %s && go test -c -o %s.test .)", dir, strings.ReplaceAll(dir, "/", "_")), nil
}

// args returns the test binary's arguments for s.
func (s spec) args() []string {
	return []string{"-test.run", "^$", "-test.bench", s.Bench, "-test.benchtime", s.Benchtime, "-test.count", "1"}
}

// run runs one spec in one round and appends its output to raw, which
// stays plain `go test -bench` output (benchstat reads it; parse tells
// the rounds apart by each name's occurrences). The binary runs in its
// package's directory, where its Python scripts are.
func (r *runner) run(ctx context.Context, round int, s spec, raw *bytes.Buffer) error {
	bin, dir := r.bin, "bench"
	if s.Dir != "" {
		bin, dir = r.bins[s.Dir], s.Dir
	}
	cmd := exec.CommandContext(ctx, bin, s.args()...)
	cmd.Dir = filepath.Join(r.root, dir)
	cmd.Env = os.Environ()
	if r.python != "" {
		cmd.Env = append(cmd.Env, "MULTIPROC_BENCH_PYTHON="+r.python)
	}
	if r.cring != "" {
		cmd.Env = append(cmd.Env, "MULTIPROC_BENCH_CRING="+r.cring)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if r.verbose != nil {
		cmd.Stderr = io.MultiWriter(&stderr, r.verbose)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("round %d, %s: %w", round, s.Bench, err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		raw.WriteString(line)
		raw.WriteByte('\n')
		if r.verbose != nil {
			fmt.Fprintln(r.verbose, line)
		}
		if name, ok := resultName(line); ok && r.bar != nil {
			r.bar.Describe(fmt.Sprintf("round %d: %-40s", round, name))
			_ = r.bar.Add(1)
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("round %d, %s: %w\n%s", round, s.Bench, err, lastLines(stderr.String()+raw.String(), 20))
	}
	return nil
}

// resultName returns the name of a benchmark result line, shortened as
// the tables name it.
func resultName(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 3 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", false
	}
	n := strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(n, '-'); i > 0 && strings.Trim(n[i+1:], "0123456789") == "" {
		n = n[:i]
	}
	return n, true
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// commandLine renders how a spec is run, for the record.
func (s spec) commandLine() string {
	if s.Dir != "" {
		return fmt.Sprintf("(cd %s && %s.test %s)", s.Dir, strings.ReplaceAll(s.Dir, "/", "_"), strings.Join(quoteArgs(s.args()), " "))
	}
	return "bench.test " + strings.Join(quoteArgs(s.args()), " ")
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " ^$|()*[]") {
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
