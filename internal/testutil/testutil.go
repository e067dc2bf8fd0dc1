// Package testutil holds what the packages' tests repeat: the TestMain that
// runs children and checks nothing is left behind, names in /dev/shm unique
// to a test and process, anonymous segments, children killed at a test's
// end, and polls for flags other processes set.
//
// It is imported by _test.go files only. It imports procs and shm, so
// tests inside package procs (or any package procs imports) cannot use
// it; their external _test packages can.
//
// Waiting: a test synchronizes with the primitive under test wherever the
// primitive offers a way. The polls here are for readiness flags that a
// child sets in shared memory and for states with nothing to wait on; their
// deadline ([Patience]) is a safety net against a hang, never a measurement.
package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// Patience bounds every wait of this package: far beyond what a loaded
// machine needs, so that only a hang reaches it.
const Patience = 30 * time.Second

// Main is a test binary's TestMain: in a child started by procs it runs the
// child's function and exits; otherwise it runs the tests and exits with
// [Run]'s code.
func Main(m *testing.M) {
	procs.Main()
	os.Exit(Run(m))
}

// Run runs the tests, then fails the run if this process left names with
// its [Prefix] in /dev/shm or children running. It removes such names and
// kills and joins such children, so that none outlives the run (a child
// holding `go test`'s output pipe would keep it waiting). It is for a
// TestMain with more to do than [Main]; call procs.Main before it.
func Run(m *testing.M) int {
	code := m.Run()
	left, _ := filepath.Glob(filepath.Join(shm.Dir, Prefix()+"*"))
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "tests left in %s: %v\n", shm.Dir, left)
		code = max(code, 1)
		for _, path := range left {
			_ = os.Remove(path)
		}
	}
	if children := procs.ActiveChildren(); len(children) > 0 {
		code = max(code, 1)
		for _, p := range children {
			fmt.Fprintf(os.Stderr, "tests left child %s (pid %d) running\n", p.Name(), p.Pid())
			_ = p.Kill()
			_ = p.JoinTimeout(Patience)
		}
	}
	return code
}

// Prefix starts every name [Name] gives in this process:
// "mptest-<test binary>-<pid>-".
func Prefix() string {
	bin := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	return fmt.Sprintf("mptest-%s-%d-", bin, os.Getpid())
}

// Name returns a name in /dev/shm unique to this test and process: [Prefix],
// the test's name, then each part after a dash. Whatever has that name when
// the test ends (a segment or any file) is removed then.
func Name(t testing.TB, parts ...string) string {
	t.Helper()
	name := strings.Join(append([]string{testBase(t)}, parts...), "-")
	t.Cleanup(func() { _ = os.Remove(filepath.Join(shm.Dir, name)) })
	return name
}

// Pattern is a glob (filepath.Match) matching every name [Name] gives this
// test with at least one part.
func Pattern(t testing.TB) string { return testBase(t) + "-*" }

func testBase(t testing.TB) string {
	return Prefix() + strings.ReplaceAll(t.Name(), "/", "_")
}

// Anonymous makes an anonymous segment of heap bytes, closed when the test
// ends.
func Anonymous(t testing.TB, heap int) *shm.Segment {
	t.Helper()
	seg, err := shm.Anonymous(heap)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Detach() })
	return seg
}

// Start starts f(arg) in a child that is killed (if still running) and
// joined when the test ends.
func Start[A, R any](t testing.TB, f *procs.Func[A, R], arg A, opts ...procs.Option) *procs.Process {
	t.Helper()
	p, err := procs.Start(f, arg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = p.Kill()
		_ = p.JoinTimeout(Patience)
	})
	return p
}

// Eventually polls cond until it holds, and reports whether it did before
// [Patience] ran out. It is for children, which have no testing.T.
func Eventually(cond func() bool) bool {
	deadline := time.Now().Add(Patience)
	// Start fast (a flag is usually set at once) and back off to a
	// millisecond, so a long wait costs little CPU on a loaded machine.
	pause := 50 * time.Microsecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
		pause = min(2*pause, time.Millisecond)
	}
	return true
}

// WaitUntil polls cond, a condition another process (or a server) makes
// true with nothing to wait on, and fails the test if it does not hold
// within [Patience]. msgAndArgs say what was awaited, as in testify.
func WaitUntil(t testing.TB, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	if !Eventually(cond) {
		require.Fail(t, "timed out waiting: condition never became true", msgAndArgs...)
	}
}

// WaitChild polls cond, a readiness flag child p sets, and fails the test
// at once if p ends first, or if cond does not hold within [Patience].
func WaitChild(t testing.TB, p *procs.Process, cond func() bool) {
	t.Helper()
	ended := Eventually(func() bool { return cond() || !p.IsAlive() })
	switch {
	case cond(): // a child that set the flag and then exited was ready
	case ended:
		t.Fatalf("child %s ended before it was ready: %v", p.Name(), p.Join())
	default:
		t.Fatalf("child %s never became ready", p.Name())
	}
}

// WaitWord waits until child p makes the shared word w non-zero (see
// [WaitChild]).
func WaitWord(t testing.TB, w *uint32, p *procs.Process) {
	t.Helper()
	WaitChild(t, p, func() bool { return atomic.LoadUint32(w) != 0 })
}

// BlockForever blocks a child until it is killed. A bare select{} would not
// do: with every goroutine parked, the runtime reports a deadlock and the
// child exits before the test kills it.
func BlockForever() {
	for {
		time.Sleep(time.Hour)
	}
}
