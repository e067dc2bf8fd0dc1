package procs

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/multiproc-go/multiproc/shm"
)

// DefaultMaxMessageSize bounds the payload of one message unless
// WithMaxMessageSize says otherwise. A receiver never allocates more than
// this for one message, whatever a header from the other side claims.
const DefaultMaxMessageSize = 128 << 20

// maxFrameSize is what the 32-bit length word can express.
const maxFrameSize = 1<<32 - 1

// A Conn is one end of a pipe made by Pipe: Python's Connection. It sends
// and receives whole messages: values (gob) with Send/Recv, raw bytes with
// SendBytes/RecvBytes/RecvBytesInto. A closed peer shows as io.EOF on
// receive.
//
// A Conn is safe for concurrent use by goroutines of one process: sends are
// serialised with each other, receives with each other. Two processes must
// not send on the same end at the same time (nor receive): their bytes
// would interleave, as with Python's pipes. Give each process its own pipe,
// or use a queue.
//
// A *Conn crosses to a child as (part of) a Start argument, and to a
// running process inside a value sent over a duplex Conn or a pool task's
// argument: the decoded Conn is the same end, on a duplicate of the
// descriptor. So do shared objects, anonymous segments' included. This
// process keeps its own copy until it closes it; close the copies an end's
// process will not use, or the other side never sees EOF.
type Conn struct {
	f        *os.File // a blocking descriptor: reads and writes are plain syscalls
	readable bool
	writable bool
	maxMsg   atomic.Int64
	closed   atomic.Bool

	sock bool // a socket, which carries descriptors (conn_fds.go)

	rlock    chan struct{}   // the receive lock, taken within a bound (conn_wait.go)
	rbuf     []byte          // rbuf[r:w] is received, not yet consumed
	rrc      syscall.RawConn // reads with recvmsg, which brings descriptors
	oob      []byte          // receives descriptors
	rfds     []int           // descriptors received, not yet taken by their frame
	r, w     int             //
	buffered atomic.Int32    // w-r, for Poll, which does not take the receive lock
	broken   error           // sticky receive error: the stream is unusable

	wmu  sync.Mutex
	wbuf []byte // frame being built
}

// A ConnOption configures the connections Pipe makes.
type ConnOption func(*Conn)

// WithMaxMessageSize sets the largest payload a connection sends or accepts
// (default DefaultMaxMessageSize; at most 4 GiB - 1). A received header
// announcing more is ErrMessageTooLarge and ends the stream.
func WithMaxMessageSize(n int) ConnOption {
	return func(c *Conn) { c.SetMaxMessageSize(n) }
}

// SetMaxMessageSize changes the connection's maximum payload size (see
// WithMaxMessageSize). Values outside 1..4 GiB-1 are clamped.
func (c *Conn) SetMaxMessageSize(n int) {
	c.maxMsg.Store(int64(min(max(n, 1), maxFrameSize)))
}

// MaxMessageSize returns the connection's maximum payload size.
func (c *Conn) MaxMessageSize() int { return int(c.maxMsg.Load()) }

// Pipe returns the two ends of a new pipe, as Python's multiprocessing.Pipe.
//
// With duplex true both ends send and receive (a unix socketpair,
// SOCK_STREAM). With duplex false the pipe is one-way, a pipe(2): the first
// end only receives, the second only sends — the same order as Python's
// Pipe(duplex=False) and os.Pipe.
//
// Messages are framed: an 8-byte header (payload length, kind, marker)
// then the payload, so message boundaries survive any split the kernel
// makes, and a receiver can refuse an oversized or malformed frame before
// allocating for it.
func Pipe(duplex bool, opts ...ConnOption) (*Conn, *Conn, error) {
	fds, err := pipeFds(duplex)
	if err != nil {
		return nil, nil, fmt.Errorf("procs: pipe: %w", err)
	}
	a := newConn(os.NewFile(uintptr(fds[0]), "pipe"), true, duplex)
	b := newConn(os.NewFile(uintptr(fds[1]), "pipe"), duplex, true)
	for _, o := range opts {
		o(a)
		o(b)
	}
	return a, b, nil
}

func newConn(f *os.File, readable, writable bool) *Conn {
	c := &Conn{f: f, readable: readable, writable: writable, sock: isSocket(f), rlock: make(chan struct{}, 1)}
	c.maxMsg.Store(DefaultMaxMessageSize)
	return c
}

// Readable reports whether this end receives.
func (c *Conn) Readable() bool { return c.readable }

// Writable reports whether this end sends.
func (c *Conn) Writable() bool { return c.writable }

// Closed reports whether Close was called.
func (c *Conn) Closed() bool { return c.closed.Load() }

// Close closes this process's copy of the end. The other side sees EOF
// once every copy of this end (in this process and in children it was
// passed to) is closed. A receive blocked in another goroutine is not
// interrupted: it returns when data or EOF arrives. Close is idempotent.
func (c *Conn) Close() error {
	if c == nil || !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := c.f.Close()
	// A receive in progress holds the receive lock and returns after the
	// close: the descriptors it queued are then closed by the next one,
	// or here.
	if c.tryLockRecv() {
		c.closeFds()
		c.unlockRecv()
	}
	return err
}

// Handle format: what a Conn's GobEncode writes.
//
//	[0]     connVersion
//	[1]     flags: connReadable | connWritable
//	[2:6]   maximum message size, little endian
//	[6:10]  index of the descriptor among the export's files (shm.ExportFile)
const (
	connVersion   = 1
	connReadable  = 1 << 0
	connWritable  = 1 << 1
	connHandleLen = 10
)

// GobEncode lets a *Conn cross to another process inside a Start argument
// or a value sent over a duplex Conn: the descriptor is registered with
// shm.ExportFile, passed along (inherited, or SCM_RIGHTS), and taken back
// by GobDecode there. Encoding a Conn anywhere else (to a file, a queue)
// is an error, ErrNotExporting: a descriptor number means nothing in
// another process.
func (c *Conn) GobEncode() ([]byte, error) {
	if c.closed.Load() {
		return nil, fmt.Errorf("procs: encoding a connection: %w", ErrConnClosed)
	}
	i, err := shm.ExportFile(c.f)
	if err != nil {
		return nil, fmt.Errorf("procs: encoding a connection: %w", err)
	}
	b := make([]byte, connHandleLen)
	b[0] = connVersion
	if c.readable {
		b[1] |= connReadable
	}
	if c.writable {
		b[1] |= connWritable
	}
	binary.LittleEndian.PutUint32(b[2:], uint32(c.MaxMessageSize()))
	binary.LittleEndian.PutUint32(b[6:], uint32(i))
	return b, nil
}

// GobDecode takes back the descriptor the parent passed (see GobEncode).
func (c *Conn) GobDecode(b []byte) error {
	if len(b) != connHandleLen || b[0] != connVersion || b[1]&^(connReadable|connWritable) != 0 || b[1] == 0 {
		return fmt.Errorf("procs: decoding a connection: %w", shm.ErrBadHandle)
	}
	f, err := shm.InheritedFile(int(binary.LittleEndian.Uint32(b[6:])))
	if err != nil {
		return fmt.Errorf("procs: decoding a connection: %w", err)
	}
	// Field by field: c holds locks, which must not be copied over.
	c.f, c.readable, c.writable, c.sock = f, b[1]&connReadable != 0, b[1]&connWritable != 0, isSocket(f)
	if c.rlock == nil {
		c.rlock = make(chan struct{}, 1)
	}
	c.SetMaxMessageSize(int(binary.LittleEndian.Uint32(b[2:])))
	return nil
}
