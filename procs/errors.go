package procs

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/multiproc-go/multiproc/internal/errs"
)

// Sentinel errors. Their texts do not name the package: every call site
// wraps them with "procs: <operation>: ", and a sentinel that named it too
// would make the message say it twice.
var (
	// ErrNotStarted: Join or Result on a process that never started.
	ErrNotStarted = errors.New("process not started")
	// ErrRunning: Result or TryJoin before the process ended (a Pool's
	// TryJoin: before its workers ended).
	ErrRunning = errors.New("process still running")
	// ErrTimeout: a Timeout form's time passed first (JoinTimeout: with
	// the process still running). It is the same value as every package's
	// ErrTimeout and matches context.DeadlineExceeded under errors.Is.
	ErrTimeout = errs.ErrTimeout
	// ErrNoResult: the process ended without a result (it failed, or was killed).
	ErrNoResult = errors.New("process left no result")
)

// An ExitError reports a child that did not end with exit code 0.
type ExitError struct {
	Name string
	Pid  int
	// Code follows Python: 1 for a returned error or a panic, the code a
	// child passed to os.Exit, -N for death by signal N.
	Code int
	// Message is the function's error text or the panic value, as the
	// child reported it; empty when the child died before reporting.
	Message string
	// Panicked is true when the function panicked.
	Panicked bool
}

func (e *ExitError) Error() string {
	what := fmt.Sprintf("exited with code %d", e.Code)
	switch {
	case e.Code < 0:
		what = fmt.Sprintf("killed by signal %v (exit code %d)", syscall.Signal(-e.Code), e.Code)
	case e.Panicked:
		what = "panicked: " + e.Message
	case e.Message != "":
		what = "failed: " + e.Message
	}
	return fmt.Sprintf("procs: process %q (pid %d) %s", e.Name, e.Pid, what)
}

// Unwrap makes errors.Is(err, ErrNoMain) true for a child that called
// Start without having run Main (it reports ErrNoMain's text).
func (e *ExitError) Unwrap() error {
	if e.Message == ErrNoMain.Error() {
		return ErrNoMain
	}
	return nil
}
