package shm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Handles: how a shared object crosses a process boundary.
//
// A segment encodes as its id and name; an object in it as that plus the
// object's name. Decoding finds the segment among the ones this process has
// attached (by id) — inherited descriptors are attached before any argument
// is decoded — or, for a named segment, opens it by name. So any type that
// lives in a segment crosses processes by implementing GobEncode/GobDecode
// with EncodeRef/DecodeRef, and the process layer needs to know none of them:
// it ships the segments that Export saw being encoded, and gob bytes.

// refVersion starts every encoded handle, so that a future format is an
// error, not a misreading.
const refVersion = 1

// ErrBadHandle: encoded handle bytes are malformed.
var ErrBadHandle = errors.New("malformed shared object handle")

// EncodeRef encodes a handle on the object named object in s ("" for the
// segment itself) and records s for a surrounding Export.
func EncodeRef(s *Segment, object string) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	noteExport(s.m)
	b := make([]byte, 0, 1+16+2+len(s.m.name)+2+len(object))
	b = append(b, refVersion)
	b = append(b, s.m.id[:]...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s.m.name)))
	b = append(b, s.m.name...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(object)))
	b = append(b, object...)
	return b, nil
}

// DecodeRef decodes a handle made by EncodeRef into a new handle on its
// segment, attached in this process, and the object's name. The caller owns
// the returned segment handle (closing it, or letting it live as long as
// the object decoded from it).
func DecodeRef(b []byte) (*Segment, string, error) {
	if len(b) < 1+16+2 || b[0] != refVersion {
		return nil, "", ErrBadHandle
	}
	var id [16]byte
	copy(id[:], b[1:17])
	rest := b[17:]
	name, rest, ok := cutString(rest)
	if !ok {
		return nil, "", ErrBadHandle
	}
	object, rest, ok := cutString(rest)
	if !ok || len(rest) != 0 {
		return nil, "", ErrBadHandle
	}
	s, err := attachByID(id, name)
	if err != nil {
		return nil, "", err
	}
	return s, object, nil
}

func cutString(b []byte) (string, []byte, bool) {
	if len(b) < 2 {
		return "", nil, false
	}
	n := int(binary.LittleEndian.Uint16(b))
	if len(b) < 2+n {
		return "", nil, false
	}
	return string(b[2 : 2+n]), b[2+n:], true
}

func attachByID(id [16]byte, name string) (*Segment, error) {
	registry.mu.Lock()
	if m, ok := registry.byID[id]; ok {
		m.refs++
		registry.mu.Unlock()
		return &Segment{m: m}, nil
	}
	registry.mu.Unlock()
	if name == "" {
		// Nothing to open it by: only a descriptor reaches it. Say how one
		// is passed.
		return nil, fmt.Errorf("shm: anonymous segment %x: %w (an anonymous segment reaches another process only "+
			"with its descriptor: pass the object in a procs.Start argument, a Conn.Send on a duplex pipe or a pool "+
			"task's argument, or put it in a named segment (shm.Create), which any process opens by name)", id, ErrNotAttached)
	}
	s, err := Open(name)
	if err != nil {
		return nil, err
	}
	if s.m.id != id {
		_ = s.Detach()
		return nil, fmt.Errorf("shm: segment %q was replaced by another of the same name: %w", name, ErrNotAttached)
	}
	return s, nil
}

// GobEncode encodes a handle on the segment (see EncodeRef).
func (s *Segment) GobEncode() ([]byte, error) { return EncodeRef(s, "") }

// GobDecode attaches the decoded handle's segment in this process.
func (s *Segment) GobDecode(b []byte) error {
	seg, object, err := DecodeRef(b)
	if err != nil {
		return err
	}
	if object != "" {
		_ = seg.Detach()
		return ErrBadHandle
	}
	s.m = seg.m
	return nil
}

func noteExport(m *mapping) {
	if e := exports.current(); e != nil {
		e.seen[m] = true // e belongs to this goroutine alone
	}
}
