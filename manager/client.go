package manager

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
)

// A client is one authenticated connection to a server, shared by every
// proxy made through it and safe for any number of goroutines: each call
// takes a fresh request id, writes its frame whole under a mutex, and waits
// on its own channel; one goroutine reads replies and hands each to the
// call with its id. So a call blocked on the server (Queue.Get) holds up no
// other call.
type client struct {
	nc        net.Conn
	address   string // canonical: what proxies encode for other processes
	opts      Options
	serverPID int

	wmu sync.Mutex // serializes frames

	mu      sync.Mutex
	pending map[uint64]chan reply
	lastID  uint64
	err     error         // why the connection ended (wraps ErrClosed); set once
	done    chan struct{} // closed when it ends

	users int // proxies decoded in this process that share it (sharedClients)
}

type reply struct {
	results [][]byte
	failed  bool
	code    uint64
	msg     string
}

// A site names a call in errors: "dict 7: Get". It is formatted only when
// something fails.
type site struct {
	typ    string
	id     uint64
	method string
}

func (s site) String() string {
	if s.id == 0 {
		return "control: " + s.method
	}
	return fmt.Sprintf("%s %d: %s", s.typ, s.id, s.method)
}

// dial connects to address, authenticates and says hello.
func dial(ctx context.Context, address string, opts Options) (*client, error) {
	opts = opts.withDefaults()
	if len(opts.Authkey) == 0 {
		return nil, fmt.Errorf("manager: connect %s: an authkey is required: %w", address, ErrInvalid)
	}
	network, addr, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("manager: connect %s: %w", address, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	// Close the socket if ctx ends mid-handshake: the deadline covers time,
	// this covers cancellation.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	err = protocol.ClientHandshake(nc, opts.Authkey)
	if !stop() || err != nil {
		nc.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("manager: connect %s: %w", address, err)
	}
	_ = nc.SetDeadline(time.Time{})
	c := &client{
		nc:      nc,
		address: formatAddress(network, addr),
		opts:    opts,
		pending: map[uint64]chan reply{},
		done:    make(chan struct{}),
	}
	go c.readLoop()
	res, err := c.call(ctx, site{method: ctlHello}, 0, ctlHello, [][]byte{uintArg(protocolVersion)})
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("hello: %d results: %w", len(res), ErrProtocol)
	}
	if err == nil {
		var pid uint64
		pid, err = getUint(res[1])
		c.serverPID = int(pid)
	}
	if err != nil {
		c.close(err)
		return nil, fmt.Errorf("manager: connect %s: %w", address, err)
	}
	return c, nil
}

// call sends a request and waits for its reply, ctx's end or the
// connection's. Cancellation: when ctx ends first, the client asks the
// server to abandon the call and waits (at most Options.CancelGrace) for its
// verdict. If the call had already completed — a Queue.Get that took an
// item — that result is returned, not ctx's error, so nothing is lost to
// the race; otherwise the error is ctx's cause.
func (c *client) call(ctx context.Context, at site, obj uint64, method string, args [][]byte) ([][]byte, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("manager: %v: %w", at, context.Cause(ctx))
	}
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("manager: %v: %w", at, err)
	}
	c.lastID++
	id := c.lastID
	c.pending[id] = ch
	c.mu.Unlock()

	frame := protocol.AppendRequest(nil, id, protocol.Request{Object: obj, Method: method, Args: args})
	if n := protocol.FrameLen(frame); n > c.opts.MaxFrame {
		c.forget(id)
		return nil, fmt.Errorf("manager: %v: request of %d bytes > limit %d: %w", at, n, c.opts.MaxFrame, ErrTooLarge)
	}
	if err := c.write(frame); err != nil {
		c.forget(id)
		return nil, fmt.Errorf("manager: %v: %w", at, err)
	}
	select {
	case r := <-ch:
		return r.outcome(at)
	case <-c.done:
		return c.lastWord(at, ch)
	case <-ctx.Done():
		return c.abandon(ctx, at, id, ch)
	}
}

func (r reply) outcome(at site) ([][]byte, error) {
	if !r.failed {
		return r.results, nil
	}
	return nil, &RemoteError{Op: at.String(), Message: r.msg, Err: codeError(r.code)}
}

// lastWord returns a reply that made it in before the connection ended, or
// the connection's error.
func (c *client) lastWord(at site, ch chan reply) ([][]byte, error) {
	select {
	case r := <-ch:
		return r.outcome(at)
	default:
		return nil, fmt.Errorf("manager: %v: %w", at, c.err)
	}
}

func (c *client) abandon(ctx context.Context, at site, id uint64, ch chan reply) ([][]byte, error) {
	cause := fmt.Errorf("manager: %v: %w", at, context.Cause(ctx))
	if c.write(protocol.AppendCancel(nil, id)) != nil {
		c.forget(id)
		return nil, cause
	}
	t := time.NewTimer(c.opts.CancelGrace)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.failed && codeError(r.code) == context.Canceled {
			return nil, cause
		}
		return r.outcome(at) // it finished first: its outcome stands
	case <-c.done:
		return nil, cause
	case <-t.C:
		c.forget(id) // a late reply is dropped
		return nil, cause
	}
}

func (c *client) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

func (c *client) write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return c.err
	default:
	}
	// A server that stops reading for this long is wedged: give up on it.
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	if _, err := c.nc.Write(frame); err != nil {
		c.close(err)
		return c.err
	}
	return nil
}

// readLoop hands replies to their calls until the connection ends.
func (c *client) readLoop() {
	br := bufio.NewReaderSize(c.nc, 32<<10)
	for {
		// As the server does: idle as long as need be, but a frame once
		// begun must arrive within FrameTimeout.
		if _, err := br.Peek(1); err != nil {
			c.close(err)
			return
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(c.opts.FrameTimeout))
		f, err := protocol.ReadFrame(br, c.opts.MaxFrame)
		if err != nil {
			c.close(err)
			return
		}
		_ = c.nc.SetReadDeadline(time.Time{})
		var r reply
		switch f.Type {
		case protocol.TypeReply:
			r.results, err = protocol.DecodeReply(f.Body)
		case protocol.TypeError:
			r.failed = true
			r.code, r.msg, err = protocol.DecodeError(f.Body)
		default:
			err = fmt.Errorf("server sent a %v frame", f.Type)
		}
		if err != nil {
			c.close(fmt.Errorf("%w: %v", ErrProtocol, err))
			return
		}
		c.mu.Lock()
		ch := c.pending[f.ID]
		delete(c.pending, f.ID)
		c.mu.Unlock()
		if ch != nil { // else abandoned after its grace, or never ours
			ch <- r
		}
	}
}

// close ends the connection once; every call waiting on it returns
// ErrClosed (wrapped with why).
func (c *client) close(why error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	switch {
	case errors.Is(why, ErrClosed):
		c.err = why
	case errors.Is(why, io.EOF), errors.Is(why, io.ErrUnexpectedEOF):
		c.err = fmt.Errorf("%w: the server hung up", ErrClosed)
	default:
		c.err = fmt.Errorf("%w: %w", ErrClosed, why)
	}
	close(c.done)
	c.nc.Close()
}

func (c *client) broken() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// control calls the control object, bounded by DialTimeout: these calls
// (attach, release, transit) never block on the server.
func (c *client) control(method string, args ...[]byte) ([][]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.DialTimeout)
	defer cancel()
	return c.call(ctx, site{method: method}, 0, method, args)
}

// Clients shared by the proxies a process decodes: one connection per
// server (address and key), whatever number of proxies arrive, closed when
// the last of them is.
var sharedClients = struct {
	sync.Mutex
	m map[string]*client
}{m: map[string]*client{}}

func sharedKey(address string, key []byte) string { return address + "\x00" + string(key) }

func sharedClient(address string, key []byte) (*client, error) {
	address = canonical(address)
	k := sharedKey(address, key)
	sharedClients.Lock()
	if c := sharedClients.m[k]; c != nil && !c.broken() {
		c.users++
		sharedClients.Unlock()
		return c, nil
	}
	sharedClients.Unlock()
	c, err := dial(context.Background(), address, Options{Authkey: key})
	if err != nil {
		return nil, err
	}
	sharedClients.Lock()
	defer sharedClients.Unlock()
	if old := sharedClients.m[k]; old != nil && !old.broken() { // another goroutine dialled too
		old.users++
		c.close(fmt.Errorf("%w: a duplicate", ErrClosed))
		return old, nil
	}
	c.users = 1
	sharedClients.m[k] = c
	return c, nil
}

func releaseShared(c *client) {
	sharedClients.Lock()
	defer sharedClients.Unlock()
	if c.users--; c.users > 0 {
		return
	}
	if k := sharedKey(c.address, c.opts.Authkey); sharedClients.m[k] == c {
		delete(sharedClients.m, k)
	}
	c.close(fmt.Errorf("%w: no proxy left", ErrClosed))
}
