package manager

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"syscall"
	"time"
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
		o.n, o.err = syscall.Write(int(fd), o.b)
		if o.err != syscall.EINTR {
			return true // done, whatever happened: never wait here
		}
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
	o.n, _, o.err = syscall.Recvfrom(int(fd), o.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return true
}

// Spinning before sleeping.
//
// A reader with nothing buffered would park in the network poller, and the
// peer's next frame would then have to wake its thread: on a virtual
// machine an idle vCPU, 15–35 µs, the largest single cost of a round trip
// (a socketpair ping-pong through the poller takes 34–40 µs here). A peer
// in the middle of a conversation answers much sooner than that. So a
// reader first polls the socket for a short while — a non-blocking peek,
// then sched_yield, which lets the peer run if it shares this core — and
// parks only when nothing came. The budget adapts: a spin that found
// nothing halves the next one (down to spinFloor), one that found a frame
// restores it, so a connection whose frames are far apart (a caller that
// waits in Queue.Get, a client that calls now and then) soon costs next to
// nothing.

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
