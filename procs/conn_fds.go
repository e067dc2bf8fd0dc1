package procs

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
	"golang.org/x/sys/unix"
)

// Descriptors over a connection.
//
// A value sent with Send may hold shared objects (their segments'
// descriptors) and connections (their sockets'): both cross a duplex pipe
// as SCM_RIGHTS, so an object in an anonymous segment, or a Conn, can be
// sent to a process that is already running. Send encodes the value
// inside shm.Export, which lists the segments and descriptors the value's
// handles named, and sends them with the frame:
//
//	frame kind frameHandles, payload:
//	[0:2]  number of segments, little endian
//	[2:4]  number of other descriptors (shm.ExportFile's, in index order)
//	then   per segment: name length (1 byte, 0 for anonymous) and name
//	then   the value's gob bytes
//
// The descriptors travel in one sendmsg with the frame's bytes, segments
// first. A stream socket delivers them with the read that returns the
// frame's first byte, never later, so the receiver queues every
// descriptor a read brings (rfds) and a frameHandles frame takes its own
// from the queue's front. Recv attaches the segments (shm.InheritNamed:
// the name crosses too, which /proc cannot tell), then decodes inside
// shm.Import, where a Conn's GobDecode takes its socket back by index.
//
// Values whose type cannot hold a handle (checked once per type:
// mayCarryHandles) skip Export and cost nothing extra.
const (
	frameHandles = 3
	maxFrameFds  = 250 // the kernel passes at most 253 per message (SCM_MAX_FD)
	maxQueuedFds = 4 * maxFrameFds
)

// sendHandles sends frame (header room and gob bytes) with the
// descriptors of segs and files. The caller holds wmu.
func (c *Conn) sendHandles(frame []byte, segs []*shm.Segment, files []*os.File) error {
	if !c.sock {
		return fmt.Errorf("procs: send: a value holding %d shared segment(s) and %d connection(s) needs a duplex pipe, Pipe(true), to carry their descriptors: %w",
			len(segs), len(files), ErrCannotPass)
	}
	if len(segs)+len(files) > maxFrameFds {
		return fmt.Errorf("procs: send: %d descriptors in one message, at most %d: %w", len(segs)+len(files), maxFrameFds, ErrCannotPass)
	}
	prefix := make([]byte, 4, 4+16*len(segs))
	binary.LittleEndian.PutUint16(prefix[0:], uint16(len(segs)))
	binary.LittleEndian.PutUint16(prefix[2:], uint16(len(files)))
	all := make([]*os.File, 0, len(segs)+len(files))
	for _, s := range segs {
		prefix = append(prefix, byte(len(s.Name())))
		prefix = append(prefix, s.Name()...)
		all = append(all, s.File())
	}
	fds := make([]int, 0, len(segs)+len(files))
	for _, f := range append(all, files...) {
		fd, err := rawFd(f)
		if err != nil {
			return fmt.Errorf("procs: send: %w", err)
		}
		fds = append(fds, fd)
	}
	out := make([]byte, 0, len(frame)+len(prefix))
	out = append(append(append(out, frame[:frameHeader]...), prefix...), frame[frameHeader:]...)
	n := len(out) - frameHeader
	if n > c.MaxMessageSize() {
		return fmt.Errorf("procs: send: %d bytes, maximum %d: %w", n, c.MaxMessageSize(), ErrMessageTooLarge)
	}
	putHeader(out, n, frameHandles)
	rc, err := c.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("procs: send: %w", err)
	}
	var sent int
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		for {
			var oob []byte
			if len(fds) > 0 {
				oob = unix.UnixRights(fds...)
			}
			sent, serr = unix.SendmsgN(int(fd), out, oob, nil, unix.MSG_NOSIGNAL)
			if serr != unix.EINTR {
				return true
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("procs: send: %w", ErrConnClosed)
		}
		return fmt.Errorf("procs: send: %w", err)
	}
	// The descriptors went with the first bytes; the rest is plain data.
	return c.write(out[sent:])
}

// read reads from the connection, queueing the descriptors that come
// with the bytes. The caller holds the receive lock.
func (c *Conn) read(p []byte) (int, error) {
	if !c.sock {
		return c.f.Read(p)
	}
	if c.rrc == nil {
		rc, err := c.f.SyscallConn()
		if err != nil {
			return 0, err
		}
		c.rrc, c.oob = rc, make([]byte, unix.CmsgSpace(4*253))
	}
	rc := c.rrc
	var n, oobn, flags int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			n, oobn, flags, _, rerr = unix.Recvmsg(int(fd), p, c.oob, recvmsgFlags)
			if rerr != unix.EINTR {
				return true
			}
		}
	})
	if err == nil {
		err = rerr
	}
	if oobn > 0 {
		if perr := c.queueFds(c.oob[:oobn]); perr != nil && err == nil {
			err = perr
		}
		if c.closed.Load() {
			c.closeFds() // Close ran meanwhile: nobody will take them
		}
	}
	if err == nil && flags&unix.MSG_CTRUNC != 0 {
		err = fmt.Errorf("descriptors lost: more than one message can carry: %w", ErrMalformedFrame)
	}
	if err != nil {
		return max(n, 0), err
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *Conn) queueFds(oob []byte) error {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue // not SCM_RIGHTS: nothing to own
		}
		if len(c.rfds)+len(fds) > maxQueuedFds {
			// More than the frames read ahead could name: a peer flooding
			// this process with descriptors. Refuse them.
			for _, fd := range fds {
				_ = unix.Close(fd)
			}
			return fmt.Errorf("more than %d descriptors received ahead of their messages: %w", maxQueuedFds, ErrMalformedFrame)
		}
		c.rfds = append(c.rfds, fds...)
	}
	return nil
}

// takeFds removes the first n queued descriptors, for the frame being
// received. The caller holds the receive lock.
func (c *Conn) takeFds(n int) ([]int, error) {
	if n > len(c.rfds) {
		return nil, fmt.Errorf("procs: recv: a message names %d descriptors, %d arrived: %w", n, len(c.rfds), ErrMalformedFrame)
	}
	fds := append([]int(nil), c.rfds[:n]...)
	c.rfds = c.rfds[n:]
	return fds, nil
}

// closeFds closes descriptors nobody will take. The caller holds the receive lock.
func (c *Conn) closeFds() {
	for _, fd := range c.rfds {
		_ = unix.Close(fd)
	}
	c.rfds = nil
}

// decodeHandles decodes a frameHandles payload into v, attaching the
// segments and taking the descriptors it names. The caller holds the receive lock.
func (c *Conn) decodeHandles(payload []byte, v any) error {
	segs, files, rest, err := c.attachHandles(payload)
	if err != nil {
		return err
	}
	defer func() {
		// The decoded objects hold handles of their own.
		for _, s := range segs {
			_ = s.Detach()
		}
	}()
	return shm.Import(files, func() error {
		if err := gob.NewDecoder(bytes.NewReader(rest)).Decode(v); err != nil {
			return fmt.Errorf("procs: recv: decoding a message into %T: %w", v, err)
		}
		return nil
	})
}

// attachHandles reads a frameHandles payload's prefix, attaches its
// segments and wraps its other descriptors, and returns them with the
// bytes that follow. The caller holds rmu; it owns what is returned.
func (c *Conn) attachHandles(payload []byte) ([]*shm.Segment, []*os.File, []byte, error) {
	if len(payload) < 4 {
		c.broken = fmt.Errorf("procs: recv: %d-byte message with descriptors: %w", len(payload), ErrMalformedFrame)
		return nil, nil, nil, c.broken
	}
	nsegs := int(binary.LittleEndian.Uint16(payload[0:]))
	nfiles := int(binary.LittleEndian.Uint16(payload[2:]))
	rest := payload[4:]
	names := make([]string, nsegs)
	for i := range names {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			c.broken = fmt.Errorf("procs: recv: segment names cut short: %w", ErrMalformedFrame)
			return nil, nil, nil, c.broken
		}
		names[i], rest = string(rest[1:1+int(rest[0])]), rest[1+int(rest[0]):]
	}
	if nsegs+nfiles > maxFrameFds {
		c.broken = fmt.Errorf("procs: recv: %d descriptors named: %w", nsegs+nfiles, ErrMalformedFrame)
		return nil, nil, nil, c.broken
	}
	fds, err := c.takeFds(nsegs + nfiles)
	if err != nil {
		c.broken = err
		return nil, nil, nil, err
	}
	var segs []*shm.Segment
	for i, name := range names {
		s, err := shm.InheritNamed(uintptr(fds[i]), name)
		if err != nil {
			for _, fd := range fds[i+1:] {
				_ = unix.Close(fd)
			}
			for _, s := range segs {
				_ = s.Detach()
			}
			return nil, nil, nil, fmt.Errorf("procs: recv: %w", err)
		}
		segs = append(segs, s)
	}
	files := make([]*os.File, nfiles)
	for i, fd := range fds[nsegs:] {
		files[i] = os.NewFile(uintptr(fd), "received")
	}
	return segs, files, rest, nil
}

// sendTagged sends payload, tagged, with the descriptors of segs and
// files: a pool's side channel to a worker (pool_side.go).
func (c *Conn) sendTagged(tag uint64, payload []byte, segs []*shm.Segment, files []*os.File) error {
	if err := c.checkSend(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	frame := make([]byte, frameHeader+8, frameHeader+8+len(payload))
	binary.LittleEndian.PutUint64(frame[frameHeader:], tag)
	return c.sendHandles(append(frame, payload...), segs, files)
}

// recvTagged receives what sendTagged sent: the tag, the payload (a new
// slice), and the segments (attached) and descriptors it carried, which
// the caller owns.
func (c *Conn) recvTagged() (uint64, []byte, []*shm.Segment, []*os.File, error) {
	if err := c.checkRecv(); err != nil {
		return 0, nil, nil, nil, err
	}
	_ = c.lockRecv(futex.Block()) // Block: never fails
	defer c.unlockRecv()
	n, kind, err := c.peekHeader()
	if err != nil {
		return 0, nil, nil, nil, err
	}
	if kind != frameHandles {
		c.broken = fmt.Errorf("procs: recv: frame kind %d where descriptors were due: %w", kind, ErrMalformedFrame)
		return 0, nil, nil, nil, c.broken
	}
	c.consume(frameHeader)
	payload, err := c.readPayload(n)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	segs, files, rest, err := c.attachHandles(payload)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	if len(rest) < 8 {
		for _, s := range segs {
			_ = s.Detach()
		}
		for _, f := range files {
			_ = f.Close()
		}
		c.broken = fmt.Errorf("procs: recv: tagged message of %d bytes: %w", len(rest), ErrMalformedFrame)
		return 0, nil, nil, nil, c.broken
	}
	return binary.LittleEndian.Uint64(rest), rest[8:], segs, files, nil
}

// rawFd returns f's descriptor number without f.Fd's side effect of
// putting the (shared) file description in blocking mode. It stays valid
// while f is open, which the caller sees to.
func rawFd(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// isSocket reports whether f is a socket: only sockets carry descriptors.
func isSocket(f *os.File) bool {
	var st unix.Stat_t
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// mayCarryHandles reports whether a value of type t can hold a shared
// object's or a connection's handle: an interface can hold anything, and a
// type with its own gob encoding (outside the standard library, which
// knows no handles) may write one. Cached per type.
func mayCarryHandles(t reflect.Type) bool {
	if t == nil {
		return false
	}
	if v, ok := handleTypes.Load(t); ok {
		return v.(bool)
	}
	r := carries(t, map[reflect.Type]bool{})
	handleTypes.Store(t, r)
	return r
}

var handleTypes sync.Map // reflect.Type → bool

var (
	gobEncoderType    = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshalType = reflect.TypeFor[encoding.BinaryMarshaler]()
	textMarshalType   = reflect.TypeFor[encoding.TextMarshaler]()
)

func carries(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false // a recursive type: its other paths decide
	}
	seen[t] = true
	if !standard(t) {
		for _, it := range []reflect.Type{gobEncoderType, binaryMarshalType, textMarshalType} {
			if t.Implements(it) || reflect.PointerTo(t).Implements(it) {
				return true
			}
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return carries(t.Elem(), seen)
	case reflect.Map:
		return carries(t.Key(), seen) || carries(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && carries(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// standard reports whether t is unnamed (its methods, if any, are its
// fields', which carries checks) or one of the standard library's types
// with an encoding of their own: values, never handles.
func standard(t reflect.Type) bool {
	switch t.PkgPath() {
	case "", "time", "math/big", "net", "net/netip", "net/url":
		return true
	}
	return false
}
