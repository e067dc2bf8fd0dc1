package shm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Handles: how a shared object crosses a process boundary.
//
// A segment encodes as its id and name; an object in it as that plus the
// object's name, and a part embedded in an object (a Mutex inside a Value)
// as that plus the part's offset. Decoding finds the segment among the ones
// this process has attached (by id) — inherited descriptors are attached
// before any argument is decoded — or, for a named segment, opens it by
// name. So any type that lives in a segment crosses processes by
// implementing GobEncode with EncodeRef and GobDecode with Decode, and the
// process layer needs to know none of them: it ships the segments that
// Export saw being encoded, and gob bytes.
//
// The bytes, version 2:
//
//	[0]      refVersion
//	[1:17]   segment id
//	         uint16 length, then the segment's name ("" when anonymous)
//	         uint16 length, then the object's name ("" for the segment)
//	         uint64 offset within the object, only when it is not 0
//
// Integers are little-endian. Every byte is accounted for: a handle with
// bytes left over, or an offset of 0 spelled out, is ErrBadHandle, so
// that one handle has one encoding.

// refVersion starts every encoded handle, so that a future format is an
// error, not a misreading.
const refVersion = 2

// ErrBadHandle: encoded handle bytes are malformed, or name something
// other than what the decoder decodes (a segment for an object, an offset
// into an object that has none).
var ErrBadHandle = errors.New("malformed shared object handle")

// EncodeRef encodes a handle on the object named object in s ("" for the
// segment itself), at byte off within it (0 for the object itself), and
// records s for a surrounding Export.
func EncodeRef(s *Segment, object string, off uintptr) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if object == "" && off != 0 {
		return nil, fmt.Errorf("shm: encode handle: %w: an offset with no object", ErrBadHandle)
	}
	noteExport(s.m)
	b := make([]byte, 0, 1+16+2+len(s.m.name)+2+len(object)+8)
	b = append(b, refVersion)
	b = append(b, s.m.id[:]...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s.m.name)))
	b = append(b, s.m.name...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(object)))
	b = append(b, object...)
	if off != 0 {
		b = binary.LittleEndian.AppendUint64(b, uint64(off))
	}
	return b, nil
}

// ref is a decoded handle, not yet attached.
type ref struct {
	id      [16]byte
	segName string
	object  string
	off     uint64
}

func parseRef(b []byte) (ref, error) {
	var r ref
	if len(b) < 1+16+2 || b[0] != refVersion {
		return r, ErrBadHandle
	}
	copy(r.id[:], b[1:17])
	segName, rest, ok := cutString(b[17:])
	if !ok {
		return r, ErrBadHandle
	}
	object, rest, ok := cutString(rest)
	if !ok {
		return r, ErrBadHandle
	}
	r.segName, r.object = segName, object
	switch {
	case len(rest) == 0:
	case len(rest) == 8 && object != "" && binary.LittleEndian.Uint64(rest) != 0:
		r.off = binary.LittleEndian.Uint64(rest)
	default:
		return r, ErrBadHandle
	}
	return r, nil
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

// A Want is what a decoded handle must name: OpenObject's kind, element
// size and fingerprint. Kind AnyKind takes an object of any kind (at the
// layout version this library reads) and lets the handle name a place
// inside it, an offset that the decoder checks against its own layout; any
// other kind wants the object itself, offset 0.
type Want struct {
	Kind        Kind
	ElemSize    uint32
	Fingerprint uint64
}

// AnyKind in a Want accepts an object of any kind (see Want).
const AnyKind Kind = 0

// DecodeRef decodes handle bytes made by EncodeRef, attaches the segment
// they name and opens the object in it as OpenObject does with want's
// kind, element size and fingerprint. It returns the object, whose
// Segment() is a new handle on the segment that the caller owns, and the
// offset within it. On any error nothing stays attached.
func DecodeRef(b []byte, want Want) (Object, uint64, error) {
	r, err := parseRef(b)
	if err != nil {
		return Object{}, 0, fmt.Errorf("shm: decode handle: %w", err)
	}
	if r.object == "" {
		return Object{}, 0, fmt.Errorf("shm: decode handle: %w: it names a segment, not an object", ErrBadHandle)
	}
	if want.Kind != AnyKind && r.off != 0 {
		return Object{}, 0, fmt.Errorf("shm: decode handle on %q: %w: offset %d into a %s", r.object, ErrBadHandle, r.off, want.Kind)
	}
	s, err := attachByID(r.id, r.segName)
	if err != nil {
		return Object{}, 0, err
	}
	obj, err := openWanted(s, r.object, want)
	if err != nil {
		_ = s.Detach()
		return Object{}, 0, err
	}
	return obj, r.off, nil
}

func openWanted(s *Segment, name string, want Want) (Object, error) {
	if want.Kind != AnyKind {
		return s.OpenObject(name, want.Kind, want.ElemSize, want.Fingerprint)
	}
	obj, err := s.Lookup(name)
	if err == nil && obj.Version != obj.Kind.Version() {
		err = fmt.Errorf("shm: object %q: %w: %s layout %d, this library reads %d", name, ErrVersion, obj.Kind, obj.Version, obj.Kind.Version())
	}
	return obj, err
}

// An Attachment is the part of a handle that says whether the handle owns
// a segment handle: every shared type embeds one. Decode, the body of the
// type's GobDecode, leaves in it the segment it attached; Detach releases
// that. A handle made by a constructor or an Open has none (its segment
// belongs to the caller), and its Detach does nothing.
type Attachment struct {
	seg *Segment
}

// Detach releases the segment handle that decoding attached for this
// handle; it does nothing for a handle made by a constructor or an Open,
// whose segment belongs to the caller. It neither unlocks nor closes
// anything, and is idempotent. The handle must not be used after Detach.
func (a *Attachment) Detach() error {
	seg := a.seg
	a.seg = nil
	return seg.Detach() // a nil *Segment detaches as nothing
}

// Decode is a handle's GobDecode: it decodes b (DecodeRef with want) and
// calls open with the object and offset to fill in the handle. If open
// succeeds, a owns the segment DecodeRef attached; if anything fails (open
// panicking included), the segment is released. open may overwrite the
// whole handle, a included: a is set after it returns.
func Decode(a *Attachment, b []byte, want Want, open func(obj Object, off uint64) error) error {
	obj, off, err := DecodeRef(b, want)
	if err != nil {
		return err
	}
	opened := false
	defer func() {
		if !opened {
			_ = obj.Segment().Detach()
		}
	}()
	if err := open(obj, off); err != nil {
		return err
	}
	opened = true
	a.seg = obj.Segment()
	return nil
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
func (s *Segment) GobEncode() ([]byte, error) { return EncodeRef(s, "", 0) }

// GobDecode attaches the decoded handle's segment in this process.
func (s *Segment) GobDecode(b []byte) error {
	r, err := parseRef(b)
	if err != nil {
		return fmt.Errorf("shm: decode segment: %w", err)
	}
	if r.object != "" {
		return fmt.Errorf("shm: decode segment: %w: it names object %q", ErrBadHandle, r.object)
	}
	seg, err := attachByID(r.id, r.segName)
	if err != nil {
		return err
	}
	s.m = seg.m
	return nil
}

func noteExport(m *mapping) {
	if e := exports.current(); e != nil {
		e.seen[m] = true // e belongs to this goroutine alone
	}
}
