package bench

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
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Python side of a comparison is measured by the same harness as the Go
// side. A script in python/ runs as a server (--serve, see
// python/common.py): it sets itself up once (imports, worker processes
// forked and waiting), prints "ready", and then answers every "run N" line
// on its standard input by timing N messages or operations and printing
// one line of "unit value" pairs, e.g.
//
//	msgs/s 315000.5 ns 31746031
//
// One server serves every round (every b.N) of a benchmark. The
// benchmark's timer runs from writing "run N" to reading the result line,
// so interpreter and process start-up are outside it, like a Go child's
// start-up; the figure reported is the one the script measured around its
// own loop (the two differ by the command's round trip, microseconds).

// pythonEnv names the interpreter to use instead of python3 on $PATH.
const pythonEnv = "MULTIPROC_BENCH_PYTHON"

// errNoPython: no Python interpreter to compare with.
var errNoPython = errors.New("bench: python3 not found")

var pythonOnce struct {
	sync.Once
	path string
	err  error
}

// findPython returns the interpreter for the Python comparisons:
// $MULTIPROC_BENCH_PYTHON, else python3 on $PATH, resolved by
// ResolvePython. It looks once per process.
func findPython() (string, error) {
	pythonOnce.Do(func() {
		name := os.Getenv(pythonEnv)
		if name == "" {
			name = "python3"
		}
		pythonOnce.path, pythonOnce.err = ResolvePython(name)
	})
	return pythonOnce.path, pythonOnce.err
}

// ResolvePython looks the interpreter name up on $PATH and returns the
// program it runs: sys.executable, as the interpreter reports it. A
// version manager's python3 is often a shim (pyenv's is a bash script
// that runs pyenv, which runs bash again: a dozen processes and 0.6
// CPU-seconds a start, 2 s of wall time on a busy two-core machine), and
// the comparisons start a few dozen interpreters a round: outside the
// timing, but inside the run. Asking once per process, from the
// directory the scripts run in (a shim picks its version by directory),
// starts the shim once. An interpreter that does not say, or names
// something that is not there, is used as found.
func ResolvePython(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w (%s): %v", errNoPython, name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pyStopLimit)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return p, nil
	}
	exe := strings.TrimSpace(string(out))
	if fi, err := os.Stat(exe); err != nil || !filepath.IsAbs(exe) || fi.IsDir() {
		return p, nil
	}
	return exe, nil
}

// timer is the part of *testing.B that a Python run drives.
type timer interface {
	StartTimer()
	StopTimer()
}

// pythonScript returns the path of a script in python/ next to this
// package's sources (go test runs in the package directory).
func pythonScript(name string) string { return filepath.Join("python", name) }

// pyServer is a running benchmark script in --serve mode.
type pyServer struct {
	name   string // script and arguments, for errors
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr bytes.Buffer
}

// pyStopLimit bounds how long close waits for a script to tear its workers
// down before killing it.
const pyStopLimit = 30 * time.Second

// startPython starts script with args and --serve under python and waits
// for its "ready".
func startPython(python, script string, args ...string) (*pyServer, error) {
	return startServer(python, append([]string{script, "--serve"}, args...)...)
}

// startServer starts a program that speaks the scripts' protocol (the C
// ring of cring/ does too) with args and waits for its "ready".
func startServer(program string, args ...string) (*pyServer, error) {
	s := &pyServer{name: strings.Join(args, " ")}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		s.name = filepath.Base(program) + " " + s.name
	}
	s.cmd = exec.Command(program, args...)
	s.cmd.Stderr = &s.stderr
	var err error
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.out = bufio.NewReader(out)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", s.name, err)
	}
	line, err := s.out.ReadString('\n')
	if err == nil && strings.TrimSpace(line) != "ready" {
		err = fmt.Errorf("expected ready, got %q", line)
	}
	if err != nil {
		return nil, s.fail(fmt.Errorf("waiting for ready: %w", err))
	}
	return s, nil
}

// run times n messages or operations with t (stopped on entry, stopped on
// return) and returns the script's figures.
func (s *pyServer) run(t timer, n int) (map[string]float64, error) {
	t.StartTimer()
	_, err := fmt.Fprintf(s.in, "run %d\n", n)
	line := ""
	if err == nil {
		line, err = s.out.ReadString('\n')
	}
	t.StopTimer()
	if err != nil {
		return nil, s.fail(fmt.Errorf("run %d: %w", n, err))
	}
	fig, err := parseFigures(line)
	if err != nil {
		return nil, s.fail(err)
	}
	return fig, nil
}

// close ends the script: EOF on its input makes it stop its workers and
// exit; one that does not within pyStopLimit is killed.
func (s *pyServer) close() error {
	_ = s.in.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("bench: %s: %w; stderr: %s", s.name, err, lastLines(s.stderr.String(), 5))
		}
		return nil
	case <-time.After(pyStopLimit):
		_ = s.cmd.Process.Kill()
		<-done
		return fmt.Errorf("bench: %s: did not stop within %v", s.name, pyStopLimit)
	}
}

// fail kills the script after err and returns err with its stderr's tail.
func (s *pyServer) fail(err error) error {
	_ = s.cmd.Process.Kill()
	_ = s.in.Close()
	_ = s.cmd.Wait()
	return fmt.Errorf("bench: %s: %w; stderr: %s", s.name, err, lastLines(s.stderr.String(), 5))
}

// parseFigures parses a result line: unit value pairs separated by blanks.
func parseFigures(line string) (map[string]float64, error) {
	f := strings.Fields(line)
	if len(f) == 0 || len(f)%2 != 0 {
		return nil, fmt.Errorf("malformed result line %q", line)
	}
	m := make(map[string]float64, len(f)/2)
	for i := 0; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i+1], 64)
		if err != nil {
			return nil, fmt.Errorf("malformed result line %q: %w", line, err)
		}
		m[f[i]] = v
	}
	return m, nil
}

// lastLines returns the last n lines of s (a traceback's tail says what
// went wrong).
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
