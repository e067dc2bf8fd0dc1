package semaphore

import (
	"encoding/binary"
	"fmt"

	"github.com/multiproc-go/multiproc/shm"
)

// Handles. A primitive crosses a process boundary as shm.EncodeRef's bytes
// (segment and object name) followed by 8 bytes: the primitive's offset
// within that object, which is 0 for a named primitive and the embedding
// offset for a Mutex placed inside another object with MutexAt.

func encodeHandle(seg *shm.Segment, object string, off uintptr) ([]byte, error) {
	if seg == nil {
		return nil, fmt.Errorf("semaphore: encode: %w: handle has no segment", ErrInvalid)
	}
	b, err := shm.EncodeRef(seg, object)
	if err != nil {
		return nil, err
	}
	return binary.LittleEndian.AppendUint64(b, uint64(off)), nil
}

// decodeHandle re-attaches the segment a handle names and returns the
// object (looked up by name) and the offset within it. The caller owns the
// returned segment handle.
func decodeHandle(b []byte) (*shm.Segment, shm.Object, uint64, error) {
	if len(b) < 8 {
		return nil, shm.Object{}, 0, shm.ErrBadHandle
	}
	off := binary.LittleEndian.Uint64(b[len(b)-8:])
	seg, name, err := shm.DecodeRef(b[:len(b)-8])
	if err != nil {
		return nil, shm.Object{}, 0, err
	}
	obj, err := seg.Lookup(name)
	if err != nil {
		_ = seg.Detach()
		return nil, shm.Object{}, 0, err
	}
	return seg, obj, off, nil
}
