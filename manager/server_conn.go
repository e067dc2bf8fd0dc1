package manager

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
)

// A serverConn serves one authenticated client. One goroutine reads
// frames; it answers a call that cannot block itself, inline, and starts a
// goroutine for one that may (Queue.Get, Mutex.Lock), so a blocked call
// never holds up the others on the same connection. Replies go out in
// completion order, each tagged with its request's id; the replies to a
// burst of buffered requests go out together.
//
// What a connection may cost is bounded: one frame being read (MaxFrame,
// and allocated only as its bytes arrive), MaxCallsPerConn calls holding at
// most MaxBytesPerConn request bytes, FrameTimeout for the rest of a frame
// once it began, WriteTimeout per reply. A client that breaks any rule is
// dropped: it costs the server that one connection.
type serverConn struct {
	s    *Server
	id   uint64
	nc   net.Conn
	br   *bufio.Reader
	out  frameSink
	spin spinner // the reader's
	life context.Context
	end  context.CancelCauseFunc

	wmu     sync.Mutex // serializes replies; guards the two below
	held    []byte     // replies the reader will send with the next ones
	holding bool       // the reader has more requests buffered: it flushes held

	mu    sync.Mutex
	calls map[uint64]context.CancelFunc // calls in flight by request id
	bytes int                           // their request bytes
	wg    sync.WaitGroup                // their goroutines

	closing sync.Once
}

func newServerConn(s *Server, id uint64, nc net.Conn) *serverConn {
	c := &serverConn{s: s, id: id, nc: nc, br: bufio.NewReaderSize(newSockReader(nc), 32<<10), out: newFrameSink(nc), spin: newSpinner(nc, s.opts.Spin), calls: map[uint64]context.CancelFunc{}}
	c.life, c.end = context.WithCancelCause(s.life)
	return c
}

// readLoop reads frames until the connection fails, and returns why.
func (c *serverConn) readLoop() error {
	holding := false // replies wait for the rest of a burst (hold)
	for {
		// Idle between frames for as long as the client likes; once a frame
		// begins, all of it must arrive within FrameTimeout (netio.go: the
		// deadline is armed only when the frame is not all here yet).
		if c.br.Buffered() == 0 {
			c.spin.wait()
		}
		if _, err := c.br.Peek(1); err != nil {
			return err
		}
		armed := !frameBuffered(c.br)
		if armed {
			_ = c.nc.SetReadDeadline(time.Now().Add(c.s.opts.FrameTimeout))
		}
		f, err := protocol.ReadFrame(c.br, c.s.opts.MaxFrame)
		if err != nil {
			return err
		}
		if armed {
			_ = c.nc.SetReadDeadline(time.Time{})
		}
		// With another request already buffered, replies wait for it and go
		// out together: one write(2), and one wake-up of the client, for a
		// burst of calls.
		more := frameBuffered(c.br)
		if more && !holding {
			c.hold(true)
			holding = true
		}
		switch f.Type {
		case protocol.TypeRequest:
			if err := c.start(f); err != nil {
				return err
			}
		case protocol.TypeCancel:
			c.mu.Lock()
			cancel := c.calls[f.ID]
			c.mu.Unlock()
			if cancel != nil { // else the call already finished: its reply is on its way
				cancel()
			}
		default:
			return fmt.Errorf("client sent a %v frame: %w", f.Type, ErrProtocol)
		}
		if holding && !more { // the burst's last: send them all
			c.hold(false)
			holding = false
		}
	}
}

// start admits a request. A call that cannot block runs at once, here in
// the reading goroutine: no goroutine to start, no other thread to wake
// (on a virtual machine, waking an idle vCPU costs tens of microseconds,
// more than the call). A call that may block gets its own goroutine.
func (c *serverConn) start(f protocol.Frame) error {
	req, err := protocol.DecodeRequest(f.Body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	e, inline, err := c.s.route(req)
	c.mu.Lock()
	if _, dup := c.calls[f.ID]; dup {
		c.mu.Unlock()
		return fmt.Errorf("request id %d reused while in flight: %w", f.ID, ErrProtocol)
	}
	if inline {
		c.mu.Unlock()
		c.reply(c.life, f.ID, req, e, err, nil)
		return nil
	}
	if len(c.calls) >= c.s.opts.MaxCallsPerConn || c.bytes+len(f.Body) > c.s.opts.MaxBytesPerConn {
		n, b := len(c.calls), c.bytes
		c.mu.Unlock()
		err := fmt.Errorf("%d calls, %d bytes in flight: %w", n, b, ErrBusy)
		c.write(protocol.AppendError(nil, f.ID, errorCode(err), err.Error()))
		return nil
	}
	ctx, cancel := context.WithCancel(c.life)
	c.calls[f.ID] = cancel
	c.bytes += len(f.Body)
	c.wg.Add(1)
	c.mu.Unlock()
	go c.run(ctx, cancel, f.ID, req, e, len(f.Body))
	return nil
}

func (c *serverConn) run(ctx context.Context, cancel context.CancelFunc, id uint64, req protocol.Request, e *entry, size int) {
	defer c.wg.Done()
	c.reply(ctx, id, req, e, nil, func() {
		// Forgotten before the reply goes out: a client that sends its next
		// call the moment it reads this reply must find the slot free.
		c.mu.Lock()
		delete(c.calls, id)
		c.bytes -= size
		c.mu.Unlock()
		cancel()
	})
}

// reply runs a call on e (nil: the control object) unless routing it
// failed (err), calls finished, and sends the outcome.
func (c *serverConn) reply(ctx context.Context, id uint64, req protocol.Request, e *entry, err error, finished func()) {
	var results [][]byte
	if err == nil {
		results, err = c.s.dispatch(ctx, caller{conn: c.id, life: c.life}, req, e)
	}
	if finished != nil {
		finished()
	}
	var frame []byte
	if err == nil {
		frame = protocol.AppendReply(nil, id, results)
		if protocol.FrameLen(frame) > c.s.opts.MaxFrame {
			err = fmt.Errorf("reply of %d bytes > limit %d: %w", protocol.FrameLen(frame), c.s.opts.MaxFrame, ErrTooLarge)
		}
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			// Say why: the client's cancel, or the server going away.
			if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
				err = cause
			}
		}
		frame = protocol.AppendError(nil, id, errorCode(err), err.Error())
	}
	c.write(frame)
}

// dispatch runs one request. A panic in an object's method (a registered
// type's bug) fails the call, not the server.
func (s *Server) dispatch(ctx context.Context, c caller, req protocol.Request, e *entry) (res [][]byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.opts.logf("manager: panic in %s: %v\n%s", req.Method, p, debug.Stack())
			res, err = nil, fmt.Errorf("panic in %s: %v", req.Method, p)
		}
	}()
	select {
	case <-s.done:
		return nil, ErrShutdown // the connection lingers only to deliver answers
	default:
	}
	if e == nil {
		return s.control(ctx, c, req.Method, req.Args)
	}
	return e.obj.call(ctx, c, req.Method, req.Args)
}

// write sends one frame, or holds it for the reader to send with the
// replies to the requests it has buffered; a client that does not take
// them within WriteTimeout is dropped.
func (c *serverConn) write(frame []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.life.Err() != nil && context.Cause(c.life) != ErrShutdown {
		return // closed: nobody to tell
	}
	if c.holding && len(c.held) < maxHeld {
		c.held = append(c.held, frame...)
		return
	}
	if len(c.held) > 0 {
		c.held = append(c.held, frame...)
		c.flushLocked()
		return
	}
	c.send(frame)
}

// maxHeld bounds the replies held back for one write.
const maxHeld = 64 << 10

// hold starts or ends a burst: while on, replies wait in held; turning it
// off sends them.
func (c *serverConn) hold(on bool) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.holding = on
	if !on {
		c.flushLocked()
	}
}

func (c *serverConn) flushLocked() {
	if len(c.held) == 0 {
		return
	}
	if c.life.Err() == nil || context.Cause(c.life) == ErrShutdown {
		c.send(c.held)
	}
	if cap(c.held) > maxSpare {
		c.held = nil
	} else {
		c.held = c.held[:0]
	}
}

func (c *serverConn) send(b []byte) {
	if err := c.out.write(b, c.s.opts.WriteTimeout); err != nil {
		go c.close(fmt.Errorf("writing a reply: %w", err))
	}
}

// close ends the connection once: its calls are cancelled, the socket
// closed, its references dropped.
func (c *serverConn) close(why error) {
	c.closing.Do(func() {
		if why == nil || errors.Is(why, io.EOF) {
			why = io.EOF
		}
		c.end(why)
		c.nc.Close()
		c.s.connClosed(c)
		if !errors.Is(why, io.EOF) && !errors.Is(why, net.ErrClosed) {
			c.s.opts.logf("manager: connection %d (%v) dropped: %v", c.id, c.nc.RemoteAddr(), why)
		}
		c.s.hookConnDone(why)
	})
}

// shutdownGrace bounds how long a shutting-down server waits for the calls
// it cancelled to send their answers. Built-in objects answer at once; a
// registered method that ignores its context may not.
const shutdownGrace = 2 * time.Second

// shutdown closes the connection after its calls (already cancelled by the
// server's life ending) have answered, so their clients read ErrShutdown
// rather than a bare hang-up.
func (c *serverConn) shutdown() {
	answered := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(answered)
	}()
	t := time.NewTimer(shutdownGrace)
	defer t.Stop()
	select {
	case <-answered:
	case <-t.C:
	}
	c.close(ErrShutdown)
}
