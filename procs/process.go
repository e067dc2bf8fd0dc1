package procs

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// A Process is a child started by Start. Its methods are safe for
// concurrent use. The child is reaped as soon as it exits, whether or not
// anybody calls Join, so it never lingers as a zombie.
//
// Only Start makes a running Process. A Process that was never started
// (the zero value, or a nil pointer) is not alive, and Join, TryJoin,
// JoinTimeout, JoinContext, Result and the signals return ErrNotStarted at once, as
// Python's join() before start() fails.
type Process struct {
	name   string
	daemon bool
	cmd    *exec.Cmd
	pid    int

	done   chan struct{} // closed once the child is reaped and its report read
	code   int           // valid after done
	rep    report        // valid after done
	hasRep bool          // the child sent a report
}

func newProcess(cmd *exec.Cmd, o options) *Process {
	p := &Process{name: o.name, daemon: o.daemon, cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	children.Lock()
	children.live[p] = struct{}{}
	children.Unlock()
	return p
}

var children = struct {
	sync.Mutex
	live map[*Process]struct{}
}{live: map[*Process]struct{}{}}

// wait reads the child's report to EOF (the child's exit closes it), then
// reaps the child and records how it ended.
func (p *Process) wait(rep *os.File) {
	b, _ := io.ReadAll(rep)
	rep.Close()
	if len(b) > 0 && gob.NewDecoder(bytes.NewReader(b)).Decode(&p.rep) == nil {
		p.hasRep = true
	}
	_ = p.cmd.Wait()
	p.code = exitCode(p.cmd.ProcessState)
	children.Lock()
	delete(children.live, p)
	children.Unlock()
	close(p.done)
}

// exitCode follows Python: the exit status, or -N for death by signal N.
func exitCode(st *os.ProcessState) int {
	if st == nil {
		return -1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return st.ExitCode()
}

// started reports whether Start made p: only it sets done.
func (p *Process) started() bool { return p != nil && p.done != nil }

func (p *Process) notStarted(op string) error {
	name := ""
	if p != nil {
		name = p.name
	}
	return fmt.Errorf("procs: %s %q: %w (make a Process with procs.Start)", op, name, ErrNotStarted)
}

// Name returns the process's name.
func (p *Process) Name() string {
	if p == nil {
		return ""
	}
	return p.name
}

// Pid returns the child's process id, 0 if it was never started.
func (p *Process) Pid() int {
	if p == nil {
		return 0
	}
	return p.pid
}

// Daemon reports whether the child dies with this process.
func (p *Process) Daemon() bool { return p != nil && p.daemon }

// IsAlive reports whether the child is still running: false once it has
// ended, and for a Process that was never started.
func (p *Process) IsAlive() bool {
	if !p.started() {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done returns a channel closed when the child has ended and been reaped.
// For a Process that was never started it returns a closed channel, so
// that nothing waits forever on a child that does not exist.
func (p *Process) Done() <-chan struct{} {
	if !p.started() {
		return closedChan
	}
	return p.done
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Join waits for the child to end (Python's join()). It returns nil for
// exit code 0 and an *ExitError otherwise.
func (p *Process) Join() error { return p.join(futex.Block()) }

// TryJoin is Join that does not wait (Python's join(0)): the child's
// outcome if it has ended, or ErrRunning (wrapped) while it runs.
func (p *Process) TryJoin() error { return p.join(futex.NoWait()) }

// JoinContext is Join that gives up when ctx ends, returning its error
// (wrapped); the child keeps running.
func (p *Process) JoinContext(ctx context.Context) error { return p.join(futex.WithContext(ctx)) }

// JoinTimeout is Join that gives up after d with ErrTimeout (Python's
// join(timeout), which then leaves exitcode None); the child keeps
// running. A negative d waits without limit.
func (p *Process) JoinTimeout(d time.Duration) error { return p.join(futex.Within(d)) }

func (p *Process) join(b futex.Bound) error {
	if !p.started() {
		return p.notStarted("joining")
	}
	switch err := awaitChan(b, p.done); {
	case err == errNotYet:
		return fmt.Errorf("procs: joining %q: %w", p.name, ErrRunning)
	case err != nil:
		return fmt.Errorf("procs: joining %q: %w", p.name, err)
	}
	return p.result()
}

func (p *Process) result() error {
	if p.code == 0 {
		return nil
	}
	e := &ExitError{Name: p.name, Pid: p.pid, Code: p.code}
	if p.hasRep {
		e.Message, e.Panicked = p.rep.Err, p.rep.Panicked
	}
	return e
}

// ExitCode returns the child's exit code (0; 1 for an error or a panic;
// what it passed to os.Exit; -N for signal N) and true, or 0 and false
// while it runs or if it was never started.
func (p *Process) ExitCode() (int, bool) {
	if !p.started() {
		return 0, false
	}
	select {
	case <-p.done:
		return p.code, true
	default:
		return 0, false
	}
}

// Result returns the function's result once the child has ended. It
// returns the child's error (an *ExitError) when it failed, an error
// matching ErrRunning while it runs, and ErrNotStarted for a Process that
// was never started.
func Result[R any](p *Process) (R, error) {
	var b box[R]
	err := p.decodeResult(&b)
	return b.V, err
}

// Result decodes the function's result into out, which must be a pointer to
// the registered function's result type (see also the generic Result, which
// needs no pointer). Its errors are the generic Result's.
func (p *Process) Result(out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("procs: result of %q: need a non-nil pointer, got %T", p.name, out)
	}
	b := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "V", Type: v.Type().Elem()}}))
	if err := p.decodeResult(b.Interface()); err != nil {
		return err
	}
	v.Elem().Set(b.Elem().Field(0))
	return nil
}

func (p *Process) decodeResult(out any) error {
	if !p.started() {
		return p.notStarted("result of")
	}
	select {
	case <-p.done:
	default:
		return fmt.Errorf("procs: result of %q: %w", p.name, ErrRunning)
	}
	if err := p.result(); err != nil {
		return err
	}
	if !p.hasRep {
		return fmt.Errorf("procs: result of %q: %w", p.name, ErrNoResult)
	}
	return gob.NewDecoder(bytes.NewReader(p.rep.Result)).Decode(out)
}

// Terminate sends SIGTERM. Ending a child that already ended is not an error.
func (p *Process) Terminate() error { return p.signal(syscall.SIGTERM) }

// Kill sends SIGKILL. Ending a child that already ended is not an error.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL) }

// Signal sends sig to the child. The runtime addresses the child through a
// pidfd, so a signal can never reach another process that reused the pid.
func (p *Process) Signal(sig os.Signal) error { return p.signal(sig) }

func (p *Process) signal(sig os.Signal) error {
	if !p.started() {
		return p.notStarted("signalling")
	}
	if !p.IsAlive() {
		return nil
	}
	err := p.cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// ActiveChildren returns the children this process started that have not
// yet ended.
func ActiveChildren() []*Process {
	children.Lock()
	defer children.Unlock()
	out := make([]*Process, 0, len(children.live))
	for p := range children.live {
		out = append(out, p)
	}
	return out
}

// Run starts f(arg) in a child, waits for it and returns its result.
// There is no TryRun: a child cannot end the moment it starts.
func Run[A, R any](f *Func[A, R], arg A, opts ...Option) (R, error) {
	return run(futex.Block(), f, arg, opts)
}

// RunContext is Run that kills the child and returns ctx's error (wrapped)
// when ctx ends first.
func RunContext[A, R any](ctx context.Context, f *Func[A, R], arg A, opts ...Option) (R, error) {
	return run(futex.WithContext(ctx), f, arg, opts)
}

// RunTimeout is Run that kills the child and returns ErrTimeout when d
// passes first.
func RunTimeout[A, R any](f *Func[A, R], arg A, d time.Duration, opts ...Option) (R, error) {
	return run(futex.Within(d), f, arg, opts)
}

func run[A, R any](b futex.Bound, f *Func[A, R], arg A, opts []Option) (R, error) {
	var r R
	p, err := Start(f, arg, opts...)
	if err != nil {
		return r, err
	}
	if err := p.join(b); err != nil {
		if b.Err() != nil {
			_ = p.Kill()
			<-p.done
		}
		return r, err
	}
	return Result[R](p)
}
