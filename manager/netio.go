package manager

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// Frames in and out without a timer per frame.
//
// A deadline is a runtime timer, and arming one that becomes the earliest
// timer of its P makes the runtime wake the network poller or start an
// idle thread to watch it (runtime.wakeNetPoller). Setting a read and a
// write deadline around every frame therefore cost a thread wake-up per
// frame on each side, and on a virtual machine waking an idle vCPU costs
// 15–35 µs: more than the call itself. The limits stay, armed only when
// they can matter:
//
//   - FrameTimeout bounds the rest of a frame once its first byte arrived.
//     A frame whose bytes are all buffered already cannot stall: it is read
//     with no deadline. Only a frame still arriving arms one.
//   - WriteTimeout bounds a write that must wait for the peer to read. A
//     socket with room takes a small frame whole at once, so a write first
//     tries once without waiting; only what is left arms the deadline.

// frameBuffered reports whether br holds a whole frame: its length field
// and every byte that field announces.
func frameBuffered(br *bufio.Reader) bool {
	if br.Buffered() < 4 {
		return false
	}
	h, err := br.Peek(4)
	if err != nil {
		return false
	}
	return uint64(binary.BigEndian.Uint32(h))+4 <= uint64(br.Buffered())
}

// maxSpare bounds a write buffer kept for reuse: one that grew past it
// for a burst of large frames goes to the garbage collector.
const maxSpare = 1 << 20

// A frameSink writes whole frames to a connection. Its users serialize
// their writes (one frame at a time).
type frameSink struct {
	nc net.Conn
	rc syscall.RawConn // nil when nc is not a socket of this process (TLS, a pipe): every write arms the deadline
	op *rawOp
}

func newFrameSink(nc net.Conn) frameSink {
	s := frameSink{nc: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			s.rc, s.op = rc, newRawOp()
		}
	}
	return s
}

// write writes b whole, or fails; a peer that takes longer than timeout to
// make room fails it with os.ErrDeadlineExceeded.
func (s frameSink) write(b []byte, timeout time.Duration) error {
	if s.rc != nil {
		n, err := s.op.write(s.rc, b)
		if err == nil && n == len(b) {
			return nil
		}
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			return err
		}
		b = b[max(n, 0):]
	}
	_ = s.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := s.nc.Write(b)
	_ = s.nc.SetWriteDeadline(time.Time{})
	return err
}

// A rawOp makes one system call on a socket that never waits. Its
// callbacks are method values made once, so a call allocates nothing. Its
// users serialize their calls (the writer lock, the read side).
type rawOp struct {
	b       []byte
	n       int
	err     error
	peek    [1]byte
	writeFn func(uintptr) bool
	peekFn  func(uintptr) bool
}

func newRawOp() *rawOp {
	o := &rawOp{}
	o.writeFn, o.peekFn = o.doWrite, o.doPeek
	return o
}

// write makes one write(2) of b: what the socket took, EAGAIN when it took
// nothing.
func (o *rawOp) write(rc syscall.RawConn, b []byte) (int, error) {
	o.b = b
	cerr := rc.Write(o.writeFn)
	o.b = nil
	if cerr != nil {
		return 0, cerr // closed, or a deadline already past
	}
	return o.n, o.err
}

func (o *rawOp) doWrite(fd uintptr) bool {
	for {
		o.n, o.err = rawIO(syscall.SYS_WRITE, fd, o.b)
		if o.err != syscall.EINTR {
			return true // done, whatever happened: never wait here
		}
	}
}

// rawIO is read(2) or write(2) on a non-blocking socket through
// RawSyscall. Such a call never blocks, so it need not tell the scheduler
// (entersyscall) that it might; and telling it has a price here: when the
// process was idle — as it is between a call and its reply — the runtime's
// monitor thread sleeps, and the next entersyscall wakes it, a second
// thread wake-up per frame on top of the one the frame itself costs.
func rawIO(trap, fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// A sockReader reads a socket with rawIO, parking in the network poller
// (with the connection's read deadline) only when nothing is there; a
// connection that is not a socket of this process is read as it is.
type sockReader struct {
	rc     syscall.RawConn
	b      []byte
	n      int
	err    error
	readFn func(uintptr) bool
}

func newSockReader(nc net.Conn) io.Reader {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	r := &sockReader{rc: rc}
	r.readFn = r.doRead
	return r
}

func (r *sockReader) Read(p []byte) (int, error) {
	r.b = p
	err := r.rc.Read(r.readFn)
	r.b = nil
	switch {
	case err != nil:
		return 0, err // closed, or the deadline passed
	case r.err != nil:
		return 0, r.err
	case r.n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return r.n, nil
}

func (r *sockReader) doRead(fd uintptr) bool {
	for {
		r.n, r.err = rawIO(syscall.SYS_READ, fd, r.b)
		switch r.err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // nothing yet: wait in the poller
		}
		return true
	}
}

// readable reports, without waiting, whether rc has bytes to read, or an
// end or error that the read that follows will report.
func (o *rawOp) readable(rc syscall.RawConn) bool {
	if rc.Read(o.peekFn) != nil {
		return true
	}
	return (o.err != syscall.EAGAIN && o.err != syscall.EINTR) || o.n > 0
}

func (o *rawOp) doPeek(fd uintptr) bool {
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&o.peek[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	o.n, o.err = int(n), nil
	if e != 0 {
		o.n, o.err = -1, e
	}
	return true
}

// Spinning before sleeping.
//
// A reader with nothing buffered parks in the network poller, and the
// peer's next frame then has to wake its thread: on a virtual machine an
// idle vCPU, 15–35 µs, the largest single cost of a round trip (a
// socketpair ping-pong through the poller takes 34–40 µs here). A peer in
// the middle of a conversation may answer sooner than that. With
// Options.Spin a reader first polls the socket for a while — a
// non-blocking peek, then runtime.Gosched so this process's other
// goroutines run — and parks only when nothing came. The budget adapts: a
// spin that found nothing halves the next one (down to spinFloor), one
// that found a frame restores it, so a connection whose frames are far
// apart (a caller that waits in Queue.Get, a client that calls now and
// then) soon costs next to nothing.
//
// It is off by default: it pays only with a core to spare for each side.
// On this project's shared 2-core machines, busy with other work, a
// single caller's round trip took about twice as long with it (the spinner
// holds the core its peer needs), while eight callers sometimes gained;
// BenchmarkProxyRoundTrip's -spin rows measure it where it runs.

const spinFloor = 2 * time.Microsecond

// A spinner is the adaptive budget of one reader. Only the holder of the
// read side uses it.
type spinner struct {
	max, cur time.Duration // max <= 0: never spin
	rc       syscall.RawConn
	op       *rawOp
}

func newSpinner(nc net.Conn, max time.Duration) spinner {
	s := spinner{max: max, cur: max}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			s.rc, s.op = rc, newRawOp()
		}
	}
	if s.rc == nil {
		s.max = 0
	}
	return s
}

// wait polls the socket for readable bytes for at most the current budget
// and reports whether some came.
func (s *spinner) wait() bool {
	if s.max <= 0 {
		return false
	}
	start := time.Now()
	for {
		if s.op.readable(s.rc) {
			s.cur = s.max
			return true
		}
		if time.Since(start) >= s.cur {
			s.cur = max(s.cur/2, spinFloor)
			return false
		}
		// Let this process's other goroutines run; sched_yield would let
		// other processes run instead, and on a busy machine come back
		// only after their time slices, milliseconds later.
		runtime.Gosched()
	}
}
