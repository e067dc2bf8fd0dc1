package procs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"golang.org/x/sys/unix"
)

// Waiting for messages: Poll on one connection, Wait on several (Python's
// Connection.poll and multiprocessing.connection.wait). A connection is
// ready when a receive would not block: bytes are buffered in this process,
// or its descriptor is readable, which includes the other end having
// closed (the receive then returns io.EOF).
//
// The wait is one ppoll(2) on all the descriptors, plus an eventfd when a
// context can cancel it. It blocks an OS thread, as a blocking receive
// does. Each descriptor is held open (the *os.File's reference count)
// for the duration, so a concurrent Close cannot let its number be reused
// under the poll; the actual close happens when the wait returns.

// Poll and Wait keep Python's shape rather than the four forms of the
// other blocking calls: they take nothing, and report readiness instead
// of failing, so the timeout is an argument (zero: only look, the Try
// form; negative: no limit, the blocking form) and running out of it is
// an answer (false, or no connections), not ErrTimeout. Each has a
// Context form. Both run through waitConns, which takes a futex.Bound.

// Poll reports whether a message (or EOF) is ready to receive, waiting up
// to timeout for one (Python's poll(timeout)): zero only looks, a negative
// timeout waits for ever.
func (c *Conn) Poll(timeout time.Duration) (bool, error) {
	ready, err := waitConns(timeoutBound(timeout), []*Conn{c})
	return len(ready) > 0, err
}

// PollContext is Poll that waits until a message is ready or ctx ends
// (then it returns false and ctx.Err()).
func (c *Conn) PollContext(ctx context.Context) (bool, error) {
	ready, err := waitConns(futex.WithContext(ctx), []*Conn{c})
	return len(ready) > 0, err
}

// Wait waits until at least one of conns is ready to receive, or timeout
// passes (negative: no limit; zero: only look), and returns the ready
// ones in their order in conns: none, with a nil error, on timeout
// (Python's multiprocessing.connection.wait).
func Wait(conns []*Conn, timeout time.Duration) ([]*Conn, error) {
	return waitConns(timeoutBound(timeout), conns)
}

// WaitContext is Wait bounded by ctx instead of a timeout; it returns
// ctx.Err() when ctx ends first.
func WaitContext(ctx context.Context, conns []*Conn) ([]*Conn, error) {
	return waitConns(futex.WithContext(ctx), conns)
}

// timeoutBound is the bound of Python's timeout argument: zero only
// looks, negative waits without limit.
func timeoutBound(d time.Duration) futex.Bound {
	if d == 0 {
		return futex.NoWait()
	}
	return futex.Within(d)
}

// waitConns is Poll's and Wait's one entry point. Running out of b is
// not an error here: it returns no connections.
func waitConns(b futex.Bound, conns []*Conn) ([]*Conn, error) {
	ctx := b.Context()
	timeout := time.Duration(-1)
	switch dl, ok := b.Deadline(); {
	case b.Try():
		timeout = 0
	case ok:
		timeout = max(time.Until(dl), 0)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, c := range conns {
		if err := c.checkRecv(); err != nil {
			return nil, fmt.Errorf("procs: wait: %w", err)
		}
	}
	// Bytes already read ahead make a connection ready without a syscall;
	// then only look at the others.
	for _, c := range conns {
		if c.buffered.Load() > 0 {
			timeout = 0
			break
		}
	}
	fds := make([]unix.PollFd, len(conns), len(conns)+1)
	var revents []int16
	err := holdFds(conns, fds, func() error {
		var err error
		revents, err = ppoll(ctx, fds, timeout)
		return err
	})
	if err != nil {
		return nil, err
	}
	var ready []*Conn
	for i, c := range conns {
		if c.buffered.Load() > 0 || revents[i] != 0 {
			ready = append(ready, c)
		}
	}
	return ready, nil
}

// holdFds fills fds with the descriptors of conns, each held open through
// its *os.File while run runs.
func holdFds(conns []*Conn, fds []unix.PollFd, run func() error) error {
	if len(conns) == 0 {
		return run()
	}
	rc, err := conns[0].f.SyscallConn()
	if err != nil {
		return fmt.Errorf("procs: wait: %w", err)
	}
	var inner error
	err = rc.Control(func(fd uintptr) {
		fds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
		inner = holdFds(conns[1:], fds[1:], run)
	})
	if errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("procs: wait: %w", ErrConnClosed)
	}
	if err != nil {
		return fmt.Errorf("procs: wait: %w", err)
	}
	return inner
}
