package procs

import (
	"context"
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"golang.org/x/sys/unix"
)

// Bounded receives. Every receive (Recv, RecvBytes, RecvBytesInto and
// their Try, Context and Timeout forms) runs under the receive lock and
// first waits, within its bound, for a message to begin:
//
//   - Block waits in the read itself, as a receive always has: no extra
//     system call.
//   - Context and Timeout forms wait in ppoll(2) until the descriptor is
//     readable (or bytes are already buffered), and give up with the
//     bound's error having consumed nothing. Once a message has begun
//     they read it whole, waiting for the rest of a frame the sender is
//     writing: a frame cut short would break the stream for good, and
//     the sender writes each frame in one go, so its rest is on its way.
//   - Try forms never wait: they receive only when a whole frame is
//     here, counting the bytes buffered in this process and those the
//     kernel holds (FIONREAD), or when the other end has hung up (the
//     receive then returns what is left and io.EOF). Otherwise ErrEmpty.
//
// The receive lock is a channel, not a sync.Mutex, so that a bounded
// receive waiting behind another goroutine's receive gives up on time
// too.

// lockRecv takes the receive lock within b.
func (c *Conn) lockRecv(b futex.Bound) error {
	select {
	case c.rlock <- struct{}{}:
		return nil
	default:
	}
	if b.Try() {
		return fmt.Errorf("procs: recv: another receive is in progress: %w", ErrEmpty)
	}
	var timer <-chan time.Time
	if dl, ok := b.Deadline(); ok {
		t := time.NewTimer(time.Until(dl))
		defer t.Stop()
		timer = t.C
	}
	select {
	case c.rlock <- struct{}{}:
		return nil
	case <-b.Context().Done():
	case <-timer:
	}
	if err := b.Err(); err != nil {
		return fmt.Errorf("procs: recv: %w", err)
	}
	return fmt.Errorf("procs: recv: %w", ErrTimeout)
}

func (c *Conn) unlockRecv() { <-c.rlock }

// tryLockRecv takes the receive lock if it is free.
func (c *Conn) tryLockRecv() bool {
	select {
	case c.rlock <- struct{}{}:
		return true
	default:
		return false
	}
}

// awaitMessage waits within b until a receive can begin (see above). The
// caller holds the receive lock.
func (c *Conn) awaitMessage(b futex.Bound) error {
	if c.broken != nil {
		return nil // the receive reports it at once
	}
	_, hasDeadline := b.Deadline()
	if !b.Try() && !hasDeadline && b.Context().Done() == nil {
		return nil
	}
	if b.Try() {
		return c.wholeFrameHere()
	}
	if c.w > c.r {
		return nil
	}
	timeout := time.Duration(-1)
	if dl, ok := b.Deadline(); ok {
		timeout = max(time.Until(dl), 0)
	}
	fds := make([]unix.PollFd, 1, 2)
	var revents []int16
	err := holdFds([]*Conn{c}, fds, func() error {
		var err error
		revents, err = ppoll(b.Context(), fds, timeout)
		return err
	})
	if err != nil {
		return fmt.Errorf("procs: recv: %w", err)
	}
	if revents[0] == 0 {
		return fmt.Errorf("procs: recv: %w", ErrTimeout)
	}
	return nil
}

// wholeFrameHere reports, without blocking, whether a whole frame can be
// received (nil) or not (ErrEmpty). The caller holds the receive lock.
func (c *Conn) wholeFrameHere() error {
	var pending int
	var hup bool
	fds := make([]unix.PollFd, 1, 2)
	err := holdFds([]*Conn{c}, fds, func() error {
		revents, err := ppoll(context.Background(), fds, 0)
		if err != nil {
			return err
		}
		hup = revents[0]&(unix.POLLHUP|unix.POLLERR) != 0
		pending, err = pendingBytes(int(fds[0].Fd))
		return err
	})
	if err != nil {
		return fmt.Errorf("procs: recv: %w", err)
	}
	if hup {
		return nil // nothing more will come: a receive cannot block
	}
	here := c.w - c.r + pending
	if here < frameHeader {
		return fmt.Errorf("procs: recv: %w", ErrEmpty)
	}
	n, _, err := c.peekHeader() // reads only bytes that are here
	if err != nil {
		return nil // the receive reports it
	}
	if here < frameHeader+n {
		return fmt.Errorf("procs: recv: %w", ErrEmpty)
	}
	return nil
}
