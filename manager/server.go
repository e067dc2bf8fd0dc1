package manager

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
)

// A Server owns shared objects and serves them to clients over any number
// of listeners. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	// life ends (with cause ErrShutdown) when the server shuts down; every
	// connection's and every call's context derives from it.
	life context.Context
	stop context.CancelCauseFunc
	// handshakes holds one token per connection still authenticating: the
	// accept loops wait for a free token before accepting.
	handshakes chan struct{}
	done       chan struct{} // closed by Shutdown
	shutdown   sync.Once

	mu       sync.Mutex
	closed   bool
	lns      map[net.Listener]struct{}
	conns    map[*serverConn]struct{}
	lastConn uint64
	table    // objects, names, tickets: guarded by mu
}

// NewServer makes a server with no listener yet; Serve gives it one. The
// authkey is required: a server anyone can use is not what this package
// makes by accident.
func NewServer(opts Options) (*Server, error) {
	if len(opts.Authkey) == 0 {
		return nil, fmt.Errorf("manager: server: an authkey is required: %w", ErrInvalid)
	}
	opts = opts.withDefaults()
	opts.Authkey = append([]byte(nil), opts.Authkey...)
	s := &Server{
		opts:       opts,
		handshakes: make(chan struct{}, opts.MaxHandshakes),
		done:       make(chan struct{}),
		lns:        map[net.Listener]struct{}{},
		conns:      map[*serverConn]struct{}{},
		table:      newTable(),
	}
	s.life, s.stop = context.WithCancelCause(context.Background())
	return s, nil
}

// Serve runs a server with opts on l until ctx ends or a client asks it to
// shut down, then shuts it down and returns nil (or the listener's error if
// it failed first). It closes l. It is Python's BaseManager.get_server().serve_forever().
func Serve(ctx context.Context, l net.Listener, opts Options) error {
	s, err := NewServer(opts)
	if err != nil {
		l.Close()
		return err
	}
	defer s.Shutdown()
	return s.Serve(ctx, l)
}

// Serve accepts connections on l until the server shuts down or ctx ends
// (which shuts the server down), and returns nil then. It closes l. An
// accept error other than a closed listener is retried with a backoff
// (running out of descriptors must not end a server); l closed by somebody
// else returns that error.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return fmt.Errorf("manager: serve: %w", ErrShutdown)
	}
	s.lns[l] = struct{}{}
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, s.Shutdown)
	defer stop()
	defer func() {
		s.mu.Lock()
		delete(s.lns, l)
		s.mu.Unlock()
		l.Close()
	}()
	var backoff time.Duration
	for {
		select {
		case s.handshakes <- struct{}{}:
		case <-s.done:
			return nil
		}
		nc, err := l.Accept()
		if err != nil {
			<-s.handshakes
			select {
			case <-s.done:
				return nil
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("manager: serve: %w", err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.opts.logf("manager: accept: %v; retrying in %v", err, backoff)
			select {
			case <-time.After(backoff):
			case <-s.done:
				return nil
			}
			continue
		}
		backoff = 0
		go s.serveConn(nc)
	}
}

// Authkey returns a copy of the server's authkey.
func (s *Server) Authkey() []byte { return append([]byte(nil), s.opts.Authkey...) }

// Done returns a channel closed when the server starts shutting down.
func (s *Server) Done() <-chan struct{} { return s.done }

// Shutdown stops the server: it closes the listeners, cancels every call in
// flight (they answer ErrShutdown), gives those answers a moment to reach
// their clients, and closes every connection. Clients then get ErrClosed.
// The objects are dropped. Calling it again does nothing.
func (s *Server) Shutdown() {
	s.shutdown.Do(func() {
		s.mu.Lock()
		s.closed = true
		lns := make([]net.Listener, 0, len(s.lns))
		for l := range s.lns {
			lns = append(lns, l)
		}
		conns := make([]*serverConn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		close(s.done)
		s.stop(ErrShutdown)
		for _, l := range lns {
			l.Close()
		}
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(c.shutdown)
		}
		wg.Wait()
		s.mu.Lock()
		s.table.clear()
		s.mu.Unlock()
	})
}

// Stats describes a server at one moment.
type Stats struct {
	Objects int // objects alive
	Named   int // objects held by a name
	Conns   int // authenticated connections
	Transit int // proxies encoded for another process and not yet attached
}

// Stats returns the server's current figures.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Objects: len(s.objects), Named: len(s.names), Conns: len(s.conns), Transit: len(s.tickets)}
}

// serveConn authenticates a new connection, then serves it until it ends.
func (s *Server) serveConn(nc net.Conn) {
	_ = nc.SetDeadline(time.Now().Add(s.opts.HandshakeTimeout))
	err := protocol.ServerHandshake(nc, s.opts.Authkey)
	<-s.handshakes
	if err != nil {
		nc.Close()
		s.opts.logf("manager: %v: handshake: %v", nc.RemoteAddr(), err)
		s.hookConnDone(err)
		return
	}
	_ = nc.SetDeadline(time.Time{})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		s.hookConnDone(ErrShutdown)
		return
	}
	s.lastConn++
	c := newServerConn(s, s.lastConn, nc)
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	c.close(c.readLoop())
}

func (s *Server) hookConnDone(err error) {
	if s.opts.connDone != nil {
		s.opts.connDone(err)
	}
}

// connClosed forgets a closed connection: its references are dropped (an
// object nobody else holds goes with them), and locks it held are released
// and marked as taken from a dead owner.
func (s *Server) connClosed(c *serverConn) {
	s.mu.Lock()
	delete(s.conns, c)
	watchers := s.table.dropConn(c.id)
	s.mu.Unlock()
	// Outside s.mu: a watcher takes its own mutex, which calls hold while
	// they reach into the table (a Condition looking up its lock).
	for _, w := range watchers {
		w.connClosed(c.id)
	}
}
