package value

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// Info is a snapshot of a value object, for tools (shmctl) and tests.
type Info struct {
	ElemSize int
	Locked   bool                 // a Value (with a lock), not a RawValue
	Buffered bool                 // T is wider than 8 bytes: double-buffered seqlock
	Lock     semaphore.MutexState // the lock word, when Locked

	// Buffered values only.
	Stores      uint32 // stores completed so far (wraps at 2^32)
	Writer      uint64 // ID of the process storing now, 0 when none
	WriterAlive bool   // that process still runs
}

func (i Info) String() string {
	s := fmt.Sprintf("raw value of %d-byte elements", i.ElemSize)
	if i.Locked {
		s = fmt.Sprintf("value of %d-byte elements, lock %v", i.ElemSize, i.Lock)
	}
	if i.Buffered {
		s += fmt.Sprintf(", %d stores", i.Stores)
		if i.Writer != 0 {
			s += fmt.Sprintf(", writer %#x", i.Writer)
			if !i.WriterAlive {
				s += " (dead)"
			}
		}
	}
	return s
}

// Inspect describes a value object (kind shm.KindValue) of any element
// type without disturbing it: it validates the header as Open does and
// loads the shared words atomically. Liveness checks read /proc.
func Inspect(obj shm.Object) (Info, error) {
	h, g, err := kind.Inspect(obj)
	if err != nil {
		return Info{}, err
	}
	info := Info{ElemSize: int(h.ElemSize), Locked: g.locked, Buffered: g.buffers == 2}
	if info.Locked {
		if info.Lock, err = semaphore.InspectMutexAt(obj, headerSize); err != nil {
			return Info{}, fmt.Errorf("value %q: inspect: %w", obj.Name, err)
		}
	}
	if info.Buffered {
		info.Stores = atomic.LoadUint32(obj.Uint32(unsafe.Offsetof(header{}.Seq)))
		info.Writer = atomic.LoadUint64(obj.Uint64(unsafe.Offsetof(header{}.Writer)))
		info.WriterAlive = info.Writer != 0 && obj.Segment().Alive(info.Writer)
	}
	return info, nil
}
