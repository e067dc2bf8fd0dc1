package procs

import (
	"errors"
	"fmt"
	"syscall"
)

// Errors of pools.
var (
	// ErrPoolClosed: a task submitted after Close (or Terminate).
	ErrPoolClosed = errors.New("pool is closed")
	// ErrPoolTerminated: the task was pending when Terminate was called.
	ErrPoolTerminated = errors.New("pool terminated")
	// ErrPoolRunning: Join before Close or Terminate.
	ErrPoolRunning = errors.New("pool is still running (Close or Terminate it before Join)")
	// ErrPoolBroken: the pool cannot run tasks any more (a worker's
	// initializer failed, or no worker could be started); the error wraps
	// the cause.
	ErrPoolBroken = errors.New("pool is broken")
	// ErrWorkerDied: the worker running the task died before finishing
	// it. The error is a *TaskError with the exit code.
	ErrWorkerDied = errors.New("pool worker died")
	// ErrTaskPanicked: the task's function panicked. The error is a
	// *TaskError with the panic value and the worker's stack.
	ErrTaskPanicked = errors.New("task panicked")
	// ErrNotReady: AsyncResult.Successful, TryGet or TryWait before the
	// result is ready.
	ErrNotReady = errors.New("result not ready")
	// ErrProtocol: a worker sent bytes that are not a valid message. The
	// worker is killed and replaced.
	ErrProtocol = errors.New("pool protocol violation")
)

// A TaskError is how a task fails in a worker: the function returned an
// error or panicked, or the worker died running it. The function's own
// error value cannot cross processes; its text does.
type TaskError struct {
	Func     string // the registered function
	Worker   string // the worker process's name
	Pid      int    // the worker's pid
	Message  string // the error's text, or the panic value
	Panicked bool
	Stack    string // for a panic: the worker goroutine's stack
	// Died is true when the worker died mid-task; ExitCode then follows
	// Process.ExitCode (-N for signal N).
	Died     bool
	ExitCode int
}

func (e *TaskError) Error() string {
	switch {
	case e.Died && e.ExitCode < 0:
		return fmt.Sprintf("procs: pool worker %q (pid %d) died running %q: killed by signal %v (exit code %d)",
			e.Worker, e.Pid, e.Func, syscall.Signal(-e.ExitCode), e.ExitCode)
	case e.Died:
		msg := ""
		if e.Message != "" {
			msg = ": " + e.Message
		}
		return fmt.Sprintf("procs: pool worker %q (pid %d) died running %q: exit code %d%s",
			e.Worker, e.Pid, e.Func, e.ExitCode, msg)
	case e.Panicked:
		return fmt.Sprintf("procs: %q panicked in pool worker %q (pid %d): %s", e.Func, e.Worker, e.Pid, e.Message)
	}
	return fmt.Sprintf("procs: %q failed in pool worker %q (pid %d): %s", e.Func, e.Worker, e.Pid, e.Message)
}

// Is makes errors.Is(err, ErrWorkerDied) and errors.Is(err,
// ErrTaskPanicked) true for the matching kinds.
func (e *TaskError) Is(target error) bool {
	return (target == ErrWorkerDied && e.Died) || (target == ErrTaskPanicked && e.Panicked)
}
