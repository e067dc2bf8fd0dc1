package manager

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/multiproc-go/multiproc/procs"
)

// A Manager is a connection to a manager server: Python's SyncManager as
// the program that started or reached the server holds it. Proxies created
// through it (NewDict(m), NewQueue(m, ...)) use its connection, and stop
// working when it is closed. Its methods are safe for concurrent use.
type Manager struct {
	c *client

	// Set by Start: the child process serving, and the socket whose end
	// tells it to stop.
	proc     *procs.Process
	lifeline net.Conn
	opts     Options

	closing  sync.Once
	closeErr error
}

// Connect attaches to the server at address (see Listen for the forms)
// with authkey: Python's BaseManager(address, authkey).connect(). A wrong
// key fails with ErrAuth.
func Connect(address string, authkey []byte) (*Manager, error) {
	return Dial(context.Background(), address, Options{Authkey: authkey})
}

// Dial is Connect with a context bounding the connection and
// authentication, and client options (Authkey, MaxFrame, DialTimeout,
// CancelGrace; WriteTimeout bounds sending a request).
func Dial(ctx context.Context, address string, opts Options) (*Manager, error) {
	c, err := dial(ctx, address, opts)
	if err != nil {
		return nil, err
	}
	return &Manager{c: c, opts: c.opts}, nil
}

// Address returns the server's address, in a form Connect accepts.
func (m *Manager) Address() string { return m.c.address }

// Authkey returns a copy of the key this manager authenticated with.
func (m *Manager) Authkey() []byte { return append([]byte(nil), m.c.opts.Authkey...) }

// ServerPid returns the process id of the server, as it reported it.
func (m *Manager) ServerPid() int { return m.c.serverPID }

// Process returns the child process serving, for a manager made by Start;
// nil otherwise.
func (m *Manager) Process() *procs.Process { return m.proc }

// Stats asks the server for its figures.
func (m *Manager) Stats() (Stats, error) {
	res, err := m.c.control(ctlStats)
	if err != nil {
		return Stats{}, err
	}
	if len(res) != 4 {
		return Stats{}, fmt.Errorf("manager: stats: %w", ErrProtocol)
	}
	var n [4]uint64
	for i := range n {
		if n[i], err = getUint(res[i]); err != nil {
			return Stats{}, fmt.Errorf("manager: stats: %w", ErrProtocol)
		}
	}
	return Stats{Objects: int(n[0]), Named: int(n[1]), Conns: int(n[2]), Transit: int(n[3])}, nil
}

// Types lists the types the server can create: the built-in ones and
// those registered in its process.
func (m *Manager) Types() ([]string, error) {
	res, err := m.c.control(ctlTypes)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(res))
	for i, b := range res {
		out[i] = string(b)
	}
	return out, nil
}

// Unname lets go of the object held by name (see Named): it lives on only
// while proxies hold it.
func (m *Manager) Unname(name string) error {
	_, err := m.c.control(ctlUnname, []byte(name))
	return err
}

// Shutdown asks the server to stop (Python's manager.shutdown()): every
// client's calls in flight fail with ErrShutdown, then every connection
// closes. For a manager made by Start it also waits for the child process
// to exit (killing it after Options.ShutdownTimeout). It closes m.
func (m *Manager) Shutdown() error {
	_, err := m.c.control(ctlShutdown)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes this manager's connection. The server drops the references
// its proxies held, and every object nobody else holds goes with them. A
// manager made by Start owns its server: Close shuts it down too (the same
// as Shutdown). Closing twice returns the first result.
func (m *Manager) Close() error {
	m.closing.Do(func() {
		m.c.close(fmt.Errorf("%w: closed by the client", ErrClosed))
		if m.proc != nil {
			m.closeErr = m.stopChild()
		}
	})
	return m.closeErr
}
