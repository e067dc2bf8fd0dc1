package manager

import "time"

// Options configure a server (Start, Serve, NewServer) and a client
// (Dial). The zero value of every field means its default.
type Options struct {
	// Address to listen on (Start) — see Listen for the forms. Empty: a
	// fresh abstract unix socket, which vanishes with the server.
	Address string
	// Authkey is the shared secret of the handshake. Start makes a random
	// 32-byte key when it is empty; Serve and Dial require one.
	Authkey []byte

	// MaxFrame bounds one frame, request or reply (default 32 MiB). Client
	// and server should agree: a larger reply is refused with ErrTooLarge.
	MaxFrame int
	// HandshakeTimeout bounds the authentication exchange (default 10 s).
	HandshakeTimeout time.Duration
	// FrameTimeout bounds how long the rest of a frame may take once its
	// first byte arrived (default 30 s): a peer that sends half a frame and
	// stalls is dropped, by a server and by a client alike. Idle time
	// between frames is unbounded.
	FrameTimeout time.Duration
	// WriteTimeout bounds writing one reply (default 30 s): a client that
	// stops reading is dropped.
	WriteTimeout time.Duration
	// MaxCallsPerConn bounds the calls running at once for one connection
	// (default 1024); MaxBytesPerConn bounds their request bytes (default
	// 4*MaxFrame). Calls beyond either are refused with ErrBusy.
	MaxCallsPerConn int
	MaxBytesPerConn int
	// MaxHandshakes bounds the connections authenticating at once
	// (default 64); more wait to be accepted.
	MaxHandshakes int
	// TransitTTL is how long a proxy encoded for another process keeps its
	// object alive before that process attaches (default 1 min).
	TransitTTL time.Duration
	// Logf, if set, receives one line per dropped connection and why.
	Logf func(format string, args ...any)

	// CancelGrace (client) bounds the wait for the server's verdict on a
	// cancelled call (default 5 s); see the package doc's Cancellation.
	CancelGrace time.Duration
	// DialTimeout (client) bounds connecting and authenticating (default
	// 10 s), and, in Start, the child server's start-up (default 30 s).
	DialTimeout time.Duration
	// ShutdownTimeout bounds how long Shutdown waits for a child server
	// started by Start to exit before killing it (default 10 s).
	ShutdownTimeout time.Duration

	// Spin is how long a reader with nothing to read polls its socket
	// before it sleeps (default 0: it sleeps at once, as Python's
	// managers do). Waking a sleeping thread costs tens of microseconds
	// on a virtual machine, more than a call, and a peer in
	// mid-conversation answers sooner: with cores to spare, a spin of
	// 20–50 µs on both sides cuts a round trip to a few microseconds. On a
	// machine whose cores are all busy it takes CPU from the peer instead,
	// and slows every call. The budget adapts: a connection whose frames
	// are far apart soon spins next to nothing (see netio.go).
	Spin time.Duration

	// connDone is a test hook: called once per server connection that
	// ends, after its references are dropped, with why it ended.
	connDone func(error)
}

const (
	defaultMaxFrame      = 32 << 20
	defaultMaxCalls      = 1024
	defaultMaxHandshakes = 64
)

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.MaxFrame <= 0 {
		o.MaxFrame = defaultMaxFrame
	}
	if o.MaxCallsPerConn <= 0 {
		o.MaxCallsPerConn = defaultMaxCalls
	}
	if o.MaxBytesPerConn <= 0 {
		o.MaxBytesPerConn = 4 * o.MaxFrame
	}
	if o.MaxHandshakes <= 0 {
		o.MaxHandshakes = defaultMaxHandshakes
	}
	def(&o.HandshakeTimeout, 10*time.Second)
	def(&o.FrameTimeout, 30*time.Second)
	def(&o.WriteTimeout, 30*time.Second)
	def(&o.TransitTTL, time.Minute)
	def(&o.CancelGrace, 5*time.Second)
	def(&o.DialTimeout, 10*time.Second)
	def(&o.ShutdownTimeout, 10*time.Second)
	return o
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}
