// Package typedobj is what the value and array packages share: an object
// holding data of a fixed-size Go type T, with or without a lock of its
// own (Value and RawValue, Array and RawArray). It creates such objects,
// opens them by name or from a handle, and checks them, so that the two
// packages differ only in what lies after the common part of the header.
//
// Both kinds begin the same way (each package's layout.go gives the rest):
//
//	0    header  64 bytes; the first 16 are common (Head): magic,
//	             version of the header's layout, flags (FlagLocked),
//	             element size, uint32 each; the kind's own fields follow
//	64   mutex   semaphore.MutexSize bytes, locked objects only
//	D    data    D = DataOff(locked), 64-aligned
package typedobj

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/layout"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

const (
	// HeaderSize is the header's length: the mutex, if any, follows it.
	HeaderSize = 64
	// FlagLocked: the object has a mutex after its header.
	FlagLocked uint32 = 1 << 0
	knownFlags        = FlagLocked
)

// The mutex must sit where MutexAt accepts it, and the data after it must
// start on a cache line: a mismatch fails to build.
var (
	_ [0]byte = [HeaderSize % semaphore.MutexAlign]byte{}
	_ [0]byte = [semaphore.MutexSize % 64]byte{}
)

// Head is the common first 16 bytes of the header.
type Head struct {
	Magic    uint32
	Version  uint32 // of the kind's header layout (the directory entry versions the kind)
	Flags    uint32 // FlagLocked
	ElemSize uint32 // unsafe.Sizeof(T)
}

// Locked reports whether the object has a mutex.
func (h Head) Locked() bool { return h.Flags&FlagLocked != 0 }

// DataOff returns where the data of an object begins.
func DataOff(locked bool) uintptr {
	if locked {
		return HeaderSize + semaphore.MutexSize
	}
	return HeaderSize
}

// Mutex returns the lock of a locked object.
func Mutex(obj shm.Object) *semaphore.Mutex {
	return semaphore.MutexAt(obj, HeaderSize, obj.Name+".lock")
}

// Type is what an object needs to know of its element type T.
type Type struct {
	Typ         reflect.Type
	Size        uintptr
	Fingerprint uint64
}

// A Kind describes one kind of typed object; G is where its parts lie
// (its geometry), as its Layout computes it from a checked Head.
type Kind[G any] struct {
	Noun    string   // "value" or "array", for messages
	Shm     shm.Kind // its kind in the segment's directory
	Magic   uint32
	Version uint32
	MaxElem uint64 // the largest element size it takes

	// Layout checks the kind's own header fields of obj, whose Head has
	// passed, against obj's size, and returns the geometry they describe.
	Layout func(obj shm.Object, h Head) (G, error)
}

// TypeOf checks that T can live in an object of kind k (fixed-size, small
// enough) and describes it.
func TypeOf[T any, G any](k *Kind[G]) (Type, error) {
	t := reflect.TypeFor[T]()
	if err := layout.FixedSize(t); err != nil {
		return Type{}, err
	}
	if uint64(t.Size()) > k.MaxElem {
		return Type{}, fmt.Errorf("%w: %s is %d bytes, a %s element at most %d", shm.ErrInvalidSize, t, t.Size(), k.Noun, k.MaxElem)
	}
	return Type{Typ: t, Size: t.Size(), Fingerprint: layout.Fingerprint(t)}, nil
}

// Create makes an object of size bytes named name in seg, writes the
// common header and lets init write the rest (the kind's fields, the
// initial data) into the zeroed memory before the object is published, so
// an opener never sees it unset.
func (k *Kind[G]) Create(seg *shm.Segment, name string, t Type, locked bool, size uintptr, init func(mem []byte)) (shm.Object, error) {
	spec := shm.Spec{Name: name, Kind: k.Shm, Size: int(size), ElemSize: uint32(t.Size), Fingerprint: t.Fingerprint}
	obj, err := seg.Create(spec, func(mem []byte) error {
		h := (*Head)(unsafe.Pointer(&mem[0]))
		h.Magic, h.Version, h.ElemSize = k.Magic, k.Version, uint32(t.Size)
		if locked {
			h.Flags = FlagLocked
		}
		init(mem)
		return nil
	})
	if err != nil {
		return shm.Object{}, fmt.Errorf("%s %q: %w", k.Noun, name, err)
	}
	return obj, nil
}

// Open finds the object named name in seg and checks it: kind, version and
// element type (the directory entry), then its header (Check).
func (k *Kind[G]) Open(seg *shm.Segment, name string, t Type, locked bool) (shm.Object, G, error) {
	var g G
	obj, err := seg.OpenObject(name, k.Shm, uint32(t.Size), t.Fingerprint)
	if err != nil {
		return shm.Object{}, g, fmt.Errorf("%s %q: %w", k.Noun, name, err)
	}
	g, err = k.Check(obj, locked)
	return obj, g, err
}

// Decode is GobDecode for a handle of kind k: it attaches the object the
// handle names, checks it as Open does, and lets fill make the handle of
// it; the attachment goes to a (see shm.Decode).
func (k *Kind[G]) Decode(a *shm.Attachment, b []byte, t Type, locked bool, fill func(shm.Object, G)) error {
	want := shm.Want{Kind: k.Shm, ElemSize: uint32(t.Size), Fingerprint: t.Fingerprint}
	return shm.Decode(a, b, want, func(obj shm.Object, _ uint64) error {
		g, err := k.Check(obj, locked)
		if err == nil {
			fill(obj, g)
		}
		return err
	})
}

// Check checks an object's header (ReadHead, then the kind's Layout) and
// that it is locked or raw as the caller wants: a Value's Open must not
// take a RawValue, which has no mutex to lock.
func (k *Kind[G]) Check(obj shm.Object, locked bool) (G, error) {
	var g G
	h, err := k.ReadHead(obj)
	if err == nil {
		g, err = k.Layout(obj, h)
	}
	if err == nil && h.Locked() != locked {
		have, use := "raw "+k.Noun, "OpenRaw"
		if h.Locked() {
			have, use = "locked "+k.Noun, "Open"
		}
		err = fmt.Errorf("%w: it is a %s (open it with %s)", shm.ErrKindMismatch, have, use)
	}
	if err != nil {
		return g, fmt.Errorf("%s %q: %w", k.Noun, obj.Name, err)
	}
	return g, nil
}

// ReadHead copies the common part of obj's header out of shared memory
// and checks it on its own terms: size, magic, version, flags, and an
// element size that agrees with the directory entry. The copy is what
// gets checked, so another process rewriting the header meanwhile cannot
// slip past; memory written by another process is input.
func (k *Kind[G]) ReadHead(obj shm.Object) (Head, error) {
	if obj.Size < HeaderSize {
		return Head{}, fmt.Errorf("%w: object of %d bytes is too short for the %s header", shm.ErrCorrupt, obj.Size, k.Noun)
	}
	h := *(*Head)(obj.Pointer(0))
	switch {
	case h.Magic != k.Magic:
		return h, fmt.Errorf("%w: bad %s magic %#x", shm.ErrCorrupt, k.Noun, h.Magic)
	case h.Version != k.Version:
		return h, fmt.Errorf("%w: %s layout version %d, want %d", shm.ErrVersion, k.Noun, h.Version, k.Version)
	case h.Flags&^knownFlags != 0:
		return h, fmt.Errorf("%w: unknown %s flags %#x", shm.ErrCorrupt, k.Noun, h.Flags)
	case uint64(h.ElemSize) > k.MaxElem || h.ElemSize != obj.ElemSize:
		return h, fmt.Errorf("%w: %s header says %d-byte elements, its directory entry %d", shm.ErrCorrupt, k.Noun, h.ElemSize, obj.ElemSize)
	}
	return h, nil
}

// Inspect checks obj as Check does, for any element type and either
// variant, for tools (shmctl) and tests.
func (k *Kind[G]) Inspect(obj shm.Object) (Head, G, error) {
	var g G
	h, err := k.ReadHead(obj)
	if obj.Kind != k.Shm {
		err = fmt.Errorf("%w: it is a %s", shm.ErrKindMismatch, obj.Kind)
	}
	if err == nil {
		g, err = k.Layout(obj, h)
	}
	if err != nil {
		return h, g, fmt.Errorf("%s %q: inspect: %w", k.Noun, obj.Name, err)
	}
	return h, g, nil
}
