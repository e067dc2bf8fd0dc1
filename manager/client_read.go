package manager

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
)

// The read turn. One goroutine at a time reads the connection: the holder
// of the turn (client.reading). It reads replies and gives each to the call
// with its id; when the reply it waits for itself has come, it gives the
// turn back.
//
// Who holds it:
//
//   - A call that cannot be cancelled (its context has no Done channel:
//     the proxies' plain methods), finding the turn free, takes it and
//     reads its own reply. A caller alone on the connection thus writes
//     its request and reads its reply on its own goroutine, as Python's
//     managers do on their thread: nothing hands the reply over, no
//     goroutine is readied, no idle thread is woken to run it (waking
//     one, a futex and on a VM an idle vCPU, cost more than the call).
//   - A call that can be cancelled never reads: it must stay free to
//     leave when its context ends. Finding the turn free, it hands it to
//     the background reader and waits for its reply on its channel.
//   - A holder that leaves while other calls still wait passes the turn
//     to the background reader, which reads until no call is pending.
//
// Invariant (under client.mu): a pending call is always read for, since
// whoever registers one finds the turn held or takes (or hands) it, and
// the turn is released only with nothing pending. A reply to a call that
// was forgotten (abandoned after its grace) is read and dropped.

// A waiter is one call waiting for its reply, and the memory the call
// uses: its request frame, the reply's body and the results' slice headers
// (which alias the body). Waiters are recycled (getWaiter, recycle), so a
// call of a fixed-size value allocates nothing.
type waiter struct {
	ch    chan struct{} // buffered 1: r is in (when someone else read it)
	r     reply
	frame []byte
	body  []byte
	res   [][]byte
	arg   []byte   // encoded arguments, for callers that build them here
	args  [][]byte // their slice headers
}

var waiters = sync.Pool{New: func() any { return &waiter{ch: make(chan struct{}, 1)} }}

func getWaiter() *waiter { return waiters.Get().(*waiter) }

// recycle returns w to the pool: only once nobody else can touch it (see
// roundTrip's reusable), and its results are no longer needed.
func (w *waiter) recycle() {
	if cap(w.frame) > maxSpare || cap(w.body) > maxSpare || cap(w.arg) > maxSpare {
		return // a burst's buffers go to the garbage collector
	}
	w.r = reply{}
	clear(w.res[:cap(w.res)])
	clear(w.args[:cap(w.args)])
	waiters.Put(w)
}

// cloneResults copies results into memory of their own: one block for
// the bytes.
func cloneResults(res [][]byte) [][]byte {
	if res == nil {
		return nil
	}
	n := 0
	for _, r := range res {
		n += len(r)
	}
	block := make([]byte, 0, n)
	out := make([][]byte, len(res))
	for i, r := range res {
		block = append(block, r...)
		out[i] = block[len(block)-len(r) : len(block) : len(block)]
	}
	return out
}

// kickReader hands the turn to the background reader. Called with c.mu
// held and c.reading set on its behalf.
func (c *client) kickReader() {
	select {
	case c.kick <- struct{}{}:
	default: // already kicked
	}
}

// passTurn gives the turn back: to the background reader if calls are
// still pending, else to whoever comes next.
func (c *client) passTurn() {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.reading = false
	} else {
		c.kickReader()
	}
	c.mu.Unlock()
}

// background reads whenever it is handed the turn, until the connection
// ends.
func (c *client) background() {
	for {
		select {
		case <-c.kick:
		case <-c.done:
			return
		}
		if c.readTurn(nil) != nil {
			return
		}
	}
}

// readTurn reads replies while holding the turn, until mine has its reply
// (mine nil: until no call is pending), and gives the turn back. An error
// ends the connection, and is returned.
func (c *client) readTurn(mine *waiter) error {
	for {
		if mine == nil {
			c.mu.Lock()
			if len(c.pending) == 0 {
				c.reading = false
				c.mu.Unlock()
				return nil
			}
			c.mu.Unlock()
		}
		w, err := c.readReply()
		if err != nil {
			c.close(err)
			return err
		}
		if mine != nil && w == mine {
			c.passTurn()
			return nil
		}
		if w != nil {
			w.ch <- struct{}{}
		}
	}
}

// readReply reads one frame and returns the call it answers, its reply
// filled in (nil: a call forgotten, or an id never ours). The body goes
// straight into the waiter's storage.
func (c *client) readReply() (*waiter, error) {
	// As the server does: idle as long as need be, but a frame once begun
	// must arrive within FrameTimeout (netio.go: armed only if it can
	// matter).
	if c.br.Buffered() == 0 {
		c.spin.wait()
	}
	if _, err := c.br.Peek(1); err != nil {
		return nil, err
	}
	armed := !frameBuffered(c.br)
	if armed {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.opts.FrameTimeout))
	}
	f, n, err := c.readHeader()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	w := c.pending[f.ID]
	delete(c.pending, f.ID)
	c.npending.Store(int32(len(c.pending)))
	c.mu.Unlock()
	var body []byte
	var res [][]byte
	if w != nil {
		body, res = w.body[:0], w.res[:0]
	}
	if body, err = protocol.ReadBody(c.br, n, body); err != nil {
		return nil, err
	}
	if armed {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	var r reply
	switch f.Type {
	case protocol.TypeReply:
		r.results, err = protocol.DecodeReplyInto(res, body)
	case protocol.TypeError:
		r.failed = true
		r.code, r.msg, err = protocol.DecodeError(body)
	default:
		err = fmt.Errorf("server sent a %v frame", f.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if w != nil {
		w.r, w.body = r, body
		if r.results != nil {
			w.res = r.results
		}
	}
	return w, nil
}

// readHeader reads a frame's header from the buffer, checked as
// protocol.ReadFrame checks it.
func (c *client) readHeader() (protocol.Frame, int, error) {
	h, err := c.br.Peek(4)
	if err != nil {
		return protocol.Frame{}, 0, noEOF(err)
	}
	if _, err := protocol.CheckLength(h, c.opts.MaxFrame); err != nil {
		return protocol.Frame{}, 0, err
	}
	if h, err = c.br.Peek(protocol.HeaderSize); err != nil {
		return protocol.Frame{}, 0, noEOF(err)
	}
	f, n, err := protocol.ParseHeader(h, c.opts.MaxFrame)
	if err != nil {
		return protocol.Frame{}, 0, err
	}
	_, _ = c.br.Discard(protocol.HeaderSize)
	return f, n, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// stale reports whether the connection has ended, looking at a socket
// nobody reads without waiting: with no call in flight nothing reads it, so
// a server that hung up is noticed here (before sharing the connection) or
// by the next call.
func (c *client) stale() bool {
	c.mu.Lock()
	if c.err != nil || c.reading {
		c.mu.Unlock()
		return c.err != nil // a reader will see the end
	}
	c.reading = true
	c.mu.Unlock()
	defer c.passTurn()
	if c.br.Buffered() > 0 || c.spin.rc == nil {
		return false
	}
	if op := c.spin.op; !op.readable(c.spin.rc) || op.n > 0 {
		return false // nothing to read, or a reply (an abandoned call's) that the next reader drops
	}
	c.close(fmt.Errorf("%w: the server hung up", ErrClosed))
	return true
}
