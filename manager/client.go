package manager

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
)

// A client is one authenticated connection to a server, shared by every
// proxy made through it and safe for any number of goroutines: each call
// takes a fresh request id, writes its frame whole under a mutex, and waits
// for the reply with its id. So a call blocked on the server (Queue.Get)
// holds up no other call.
//
// Replies are read by whichever goroutine holds the read turn (client_read.go):
// a caller alone on the connection reads its own reply, with no goroutine
// to hand it over and no thread to wake; when others wait too, replies go
// to them through their channels.
type client struct {
	nc        net.Conn
	br        *bufio.Reader // read only by the holder of the read turn
	out       frameSink
	spin      spinner // the read turn's
	address   string  // canonical: what proxies encode for other processes
	opts      Options
	serverPID int

	wmu     sync.Mutex // guards the three below
	writing bool       // a goroutine is writing: frames queue in wq for it
	wq      []byte     // frames waiting for the writer
	spare   []byte     // a written queue's buffer, for the next

	mu      sync.Mutex
	pending map[uint64]*waiter
	// npending is len(pending), for write to read without c.mu.
	npending atomic.Int32
	lastID   uint64
	reading  bool          // a goroutine holds the read turn
	kick     chan struct{} // hands the read turn to the background reader
	err      error         // why the connection ended (wraps ErrClosed); set once
	done     chan struct{} // closed when it ends

	users int // proxies decoded in this process that share it (sharedClients)

	// A sealed file holding the address and key, made the first time a
	// proxy is encoded for a child (keys.go), closed with the connection.
	keyOnce sync.Once
	keyFile *os.File
	keyErr  error
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
		br:      bufio.NewReaderSize(newSockReader(nc), 32<<10),
		out:     newFrameSink(nc),
		spin:    newSpinner(nc, opts.Spin),
		address: formatAddress(network, addr),
		opts:    opts,
		pending: map[uint64]*waiter{},
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	go c.background()
	// The server proved it holds the key: proxies of it decoded in this
	// process may use it (keys.go).
	rememberKey(c.address, opts.Authkey)
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
// connection's, and returns the results in memory of their own.
func (c *client) call(ctx context.Context, at site, obj uint64, method string, args [][]byte) ([][]byte, error) {
	w := getWaiter()
	res, reusable, err := c.roundTrip(ctx, at, obj, method, args, w)
	if reusable {
		res = cloneResults(res)
		w.recycle()
	}
	return res, err
}

// roundTrip sends a request built in w and waits for its reply, ctx's end
// or the connection's. The results alias w's storage. reusable says
// whether w may be recycled once the caller is done with them: no other
// goroutine will touch it again (it is false when a reader might still
// fill it in: the call was abandoned, or the connection ended under it).
//
// Cancellation: when ctx ends first, the client asks the server to abandon
// the call and waits (at most Options.CancelGrace) for its verdict. If the
// call had already completed — a Queue.Get that took an item — that result
// is returned, not ctx's error, so nothing is lost to the race; otherwise
// the error is ctx's cause.
func (c *client) roundTrip(ctx context.Context, at site, obj uint64, method string, args [][]byte, w *waiter) (res [][]byte, reusable bool, err error) {
	if ctx.Err() != nil {
		return nil, true, fmt.Errorf("manager: %v: %w", at, context.Cause(ctx))
	}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, true, fmt.Errorf("manager: %v: %w", at, err)
	}
	c.lastID++
	id := c.lastID
	c.pending[id] = w
	c.npending.Store(int32(len(c.pending)))
	// A call that cannot be cancelled may read its own reply; one that can
	// must stay free to leave when ctx ends, so the background reader
	// reads for it.
	lead := !c.reading && ctx.Done() == nil
	if !c.reading {
		c.reading = true
		if !lead {
			c.kickReader()
		}
	}
	c.mu.Unlock()

	w.frame = protocol.AppendRequest(w.frame[:0], id, protocol.Request{Object: obj, Method: method, Args: args})
	if n := protocol.FrameLen(w.frame); n > c.opts.MaxFrame {
		err = fmt.Errorf("request of %d bytes > limit %d: %w", n, c.opts.MaxFrame, ErrTooLarge)
	} else {
		err = c.write(w.frame)
	}
	if err != nil {
		c.forget(id)
		if lead {
			c.passTurn()
		}
		return nil, false, fmt.Errorf("manager: %v: %w", at, err)
	}
	if lead {
		if c.readTurn(w) != nil {
			return c.lastWord(at, w)
		}
		res, err = w.r.outcome(at)
		return res, true, err
	}
	select {
	case <-w.ch:
		res, err = w.r.outcome(at)
		return res, true, err
	case <-c.done:
		return c.lastWord(at, w)
	case <-ctx.Done():
		return c.abandon(ctx, at, id, w)
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
func (c *client) lastWord(at site, w *waiter) ([][]byte, bool, error) {
	select {
	case <-w.ch:
		res, err := w.r.outcome(at)
		return res, true, err
	default:
		return nil, false, fmt.Errorf("manager: %v: %w", at, c.err)
	}
}

func (c *client) abandon(ctx context.Context, at site, id uint64, w *waiter) ([][]byte, bool, error) {
	cause := fmt.Errorf("manager: %v: %w", at, context.Cause(ctx))
	if c.write(protocol.AppendCancel(nil, id)) != nil {
		c.forget(id)
		return nil, false, cause
	}
	t := time.NewTimer(c.opts.CancelGrace)
	defer t.Stop()
	select {
	case <-w.ch:
		if w.r.failed && codeError(w.r.code) == context.Canceled {
			return nil, true, cause
		}
		res, err := w.r.outcome(at) // it finished first: its outcome stands
		return res, true, err
	case <-c.done:
		return nil, false, cause
	case <-t.C:
		c.forget(id) // a late reply is dropped
		return nil, false, cause
	}
}

func (c *client) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.npending.Store(int32(len(c.pending)))
	c.mu.Unlock()
}

// write sends frame whole, after the frames sent before it. Writes
// combine: while one goroutine is in write(2), the frames of others queue
// behind it, and it sends them all in its next write, so many callers cost
// a few system calls, not one each (and the server reads them in one go).
// A queued frame is as good as sent: if its write fails, the connection
// ends, and its caller learns so waiting for the reply.
func (c *client) write(frame []byte) error {
	c.wmu.Lock()
	select {
	case <-c.done:
		c.wmu.Unlock()
		return c.err
	default:
	}
	if c.writing {
		c.wq = append(c.wq, frame...)
		c.wmu.Unlock()
		return nil
	}
	c.writing = true
	buf := frame
	if c.npending.Load() > 1 {
		// Other calls are in flight: their callers, woken by the replies
		// just read, are likely about to write too. Let them run first and
		// queue their frames: one write for all, and one read for the server.
		c.wq = append(c.wq, frame...)
		c.wmu.Unlock()
		runtime.Gosched()
		c.wmu.Lock()
		buf, c.wq, c.spare = c.wq, c.spare, nil
	}
	for {
		c.wmu.Unlock()
		// A server that stops reading for WriteTimeout is wedged: give up on it.
		err := c.out.write(buf, c.opts.WriteTimeout)
		c.wmu.Lock()
		if err != nil {
			c.writing, c.wq = false, nil
			c.wmu.Unlock()
			c.close(err)
			return c.err
		}
		if &buf[0] != &frame[0] && c.spare == nil && cap(buf) <= maxSpare {
			c.spare = buf[:0]
		}
		if len(c.wq) == 0 {
			c.writing = false
			c.wmu.Unlock()
			return nil
		}
		buf, c.wq, c.spare = c.wq, c.spare, nil
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
	c.keyOnce.Do(func() {}) // waits for one being made; none is made after this
	if c.keyFile != nil {
		c.keyFile.Close() // children got duplicates
	}
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
	if c := sharedClients.m[k]; c != nil && !c.stale() {
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
	if old := sharedClients.m[k]; old != nil && !old.stale() { // another goroutine dialled too
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
