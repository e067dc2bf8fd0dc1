package manager

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
	"github.com/multiproc-go/multiproc/procs"
)

// Start starts a manager server in a child process and connects to it:
// Python's Manager() and BaseManager.start(). The child is this program
// run again through procs, so main (and TestMain) must call procs.Main
// first, and registered types must be registered at package level.
//
// Options.Address chooses where it listens (default: a fresh abstract unix
// socket); Options.Authkey the key (default: 32 random bytes, see
// Manager.Authkey). The child is a daemon (procs.WithDaemon): it dies with
// this process, however this process ends. Close or Shutdown stops it.
//
// How the child reports back: this process listens on a private abstract
// socket (the rendezvous), the child dials it once its listener is up,
// both authenticate with the authkey, and the child sends its address.
// That connection then stays open as a lifeline: when it ends — Close, or
// this process's death — the child shuts its server down.
func Start(opts Options) (*Manager, error) {
	opts = opts.withDefaults()
	if len(opts.Authkey) == 0 {
		opts.Authkey = make([]byte, 32)
		if _, err := rand.Read(opts.Authkey); err != nil {
			return nil, fmt.Errorf("manager: start: authkey: %w", err)
		}
	}
	rdv, err := net.Listen("unix", freshAbstract("rendezvous"))
	if err != nil {
		return nil, fmt.Errorf("manager: start: %w", err)
	}
	defer rdv.Close()
	if testHookRendezvous != nil {
		testHookRendezvous(Addr(rdv.Addr()))
	}
	arg := serverArg{Address: opts.Address, Authkey: opts.Authkey, Rendezvous: rdv.Addr().String(), Limits: limitsOf(opts)}
	p, err := procs.Start(serverFunc, arg, procs.WithName("manager"), procs.WithDaemon(true))
	if err != nil {
		return nil, fmt.Errorf("manager: start: %w", err)
	}
	fail := func(err error) (*Manager, error) {
		_ = p.Kill()
		<-p.Done()
		return nil, fmt.Errorf("manager: start: %w", err)
	}
	address, lifeline, err := awaitChild(rdv, p, opts)
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.DialTimeout)
	defer cancel()
	c, err := dial(ctx, address, opts)
	if err != nil {
		lifeline.Close()
		return fail(err)
	}
	return &Manager{c: c, proc: p, lifeline: lifeline, opts: opts}, nil
}

// maxRendezvous bounds the rendezvous handshakes running at once; beyond
// it a new connection is closed unread.
const maxRendezvous = 256

// testHookRendezvous, if set, learns the rendezvous address before the
// child starts (tests dial it).
var testHookRendezvous func(address string)

// awaitChild accepts the child's rendezvous connection, authenticates it
// and reads its address, unless the child dies or DialTimeout (30 s at
// least) passes first.
//
// Anybody on this machine may dial the rendezvous (an abstract socket is
// listed in /proc/net/unix), so each connection is authenticated on a
// goroutine of its own, bounded by HandshakeTimeout: a peer that connects
// and says nothing costs only its own goroutine and socket, never the
// child's turn. The first connection that passes is the child's (it alone
// knows the key); the others are closed when this returns.
func awaitChild(rdv net.Listener, p *procs.Process, opts Options) (string, net.Conn, error) {
	type result struct {
		addr string
		conn net.Conn
	}
	got := make(chan result, 1)
	acceptErr := make(chan error, 1)
	var (
		mu     sync.Mutex
		open   = map[net.Conn]bool{} // connections still authenticating
		closed bool                  // awaitChild returned: close what comes
		wg     sync.WaitGroup
	)
	finish := func() {
		rdv.Close()
		mu.Lock()
		closed = true
		for conn := range open {
			conn.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := rdv.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			mu.Lock()
			if closed || len(open) >= maxRendezvous {
				mu.Unlock()
				conn.Close()
				continue
			}
			open[conn] = true
			wg.Add(1)
			mu.Unlock()
			go func() {
				defer wg.Done()
				_ = conn.SetDeadline(time.Now().Add(opts.HandshakeTimeout))
				addr, err := readRendezvous(conn, opts.Authkey)
				mu.Lock()
				delete(open, conn)
				mu.Unlock()
				if err == nil {
					_ = conn.SetDeadline(time.Time{})
					select {
					case got <- result{addr: addr, conn: conn}:
						return
					default: // another one passed first
					}
				}
				conn.Close() // not our child (or not first): next
			}()
		}
	}()
	t := time.NewTimer(max(opts.DialTimeout, 30*time.Second))
	defer t.Stop()
	select {
	case r := <-got:
		finish()
		return r.addr, r.conn, nil
	case err := <-acceptErr:
		finish()
		return "", nil, err
	case <-p.Done():
		finish()
		if r, ok := tryRecv(got); ok { // it spoke just before dying
			r.conn.Close()
		}
		return "", nil, fmt.Errorf("the server process ended before serving: %w", p.Join())
	case <-t.C:
		finish()
		if r, ok := tryRecv(got); ok {
			r.conn.Close()
		}
		return "", nil, fmt.Errorf("the server process did not report in time: %w", ErrTimeout)
	}
}

func tryRecv[T any](ch <-chan T) (T, bool) {
	select {
	case v := <-ch:
		return v, true
	default:
		var zero T
		return zero, false
	}
}

func readRendezvous(conn net.Conn, key []byte) (string, error) {
	if err := protocol.ServerHandshake(conn, key); err != nil {
		return "", err
	}
	f, err := protocol.ReadFrame(conn, 4096)
	if err != nil {
		return "", err
	}
	res, err := protocol.DecodeReply(f.Body)
	if err != nil || len(res) != 1 {
		return "", fmt.Errorf("bad rendezvous message: %w", ErrProtocol)
	}
	return string(res[0]), nil
}

// stopChild shuts the child server down: closing the lifeline tells it to,
// then it gets ShutdownTimeout to exit before it is killed.
func (m *Manager) stopChild() error {
	m.lifeline.Close()
	err := m.proc.JoinTimeout(m.opts.ShutdownTimeout)
	if errors.Is(err, procs.ErrTimeout) {
		_ = m.proc.Kill()
		<-m.proc.Done()
		return fmt.Errorf("manager: the server process did not exit within %v and was killed: %w", m.opts.ShutdownTimeout, ErrTimeout)
	}
	return err
}

// serverArg is what Start sends its child.
type serverArg struct {
	Address    string
	Authkey    []byte
	Rendezvous string
	Limits     limits
}

// limits are the server options that cross to the child (functions cannot).
type limits struct {
	MaxFrame, MaxCallsPerConn, MaxBytesPerConn, MaxHandshakes int
	HandshakeTimeout, FrameTimeout, WriteTimeout, TransitTTL  time.Duration
	Spin                                                      time.Duration
}

func limitsOf(o Options) limits {
	return limits{o.MaxFrame, o.MaxCallsPerConn, o.MaxBytesPerConn, o.MaxHandshakes,
		o.HandshakeTimeout, o.FrameTimeout, o.WriteTimeout, o.TransitTTL, o.Spin}
}

func (l limits) options(o Options) Options {
	o.MaxFrame, o.MaxCallsPerConn, o.MaxBytesPerConn, o.MaxHandshakes = l.MaxFrame, l.MaxCallsPerConn, l.MaxBytesPerConn, l.MaxHandshakes
	o.HandshakeTimeout, o.FrameTimeout, o.WriteTimeout, o.TransitTTL = l.HandshakeTimeout, l.FrameTimeout, l.WriteTimeout, l.TransitTTL
	o.Spin = l.Spin
	return o
}

var serverFunc = procs.Register("multiproc/manager.serve", serveChild)

// serveChild runs in the child: listen, report the address through the
// rendezvous, serve until the lifeline ends or a client asks to shut down.
func serveChild(a serverArg) (struct{}, error) {
	s, err := NewServer(a.Limits.options(Options{Authkey: a.Authkey}))
	if err != nil {
		return struct{}{}, err
	}
	l, err := Listen(a.Address)
	if err != nil {
		return struct{}{}, err
	}
	life, err := net.DialTimeout("unix", a.Rendezvous, s.opts.HandshakeTimeout)
	if err != nil {
		l.Close()
		return struct{}{}, fmt.Errorf("manager: server: rendezvous: %w", err)
	}
	_ = life.SetDeadline(time.Now().Add(s.opts.HandshakeTimeout))
	err = protocol.ClientHandshake(life, a.Authkey)
	if err == nil {
		_, err = life.Write(protocol.AppendReply(nil, 1, [][]byte{[]byte(Addr(l.Addr()))}))
	}
	if err != nil {
		l.Close()
		life.Close()
		return struct{}{}, fmt.Errorf("manager: server: rendezvous: %w", err)
	}
	_ = life.SetDeadline(time.Time{})
	go func() {
		// The parent never writes: a read returns when the lifeline ends.
		_, _ = life.Read(make([]byte, 1))
		s.Shutdown()
	}()
	err = s.Serve(context.Background(), l)
	s.Shutdown()
	life.Close()
	return struct{}{}, err
}
