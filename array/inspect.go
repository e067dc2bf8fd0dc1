package array

import (
	"fmt"

	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// Info is a snapshot of an array object, for tools (shmctl) and tests.
type Info struct {
	ElemSize int
	Len      int
	Locked   bool                 // an Array (with a lock), not a RawArray
	Lock     semaphore.MutexState // the lock word, when Locked
}

func (i Info) String() string {
	if !i.Locked {
		return fmt.Sprintf("raw array of %d %d-byte elements", i.Len, i.ElemSize)
	}
	return fmt.Sprintf("array of %d %d-byte elements, lock %v", i.Len, i.ElemSize, i.Lock)
}

// Inspect describes an array object (kind shm.KindArray) of any element
// type without disturbing it, validating its header as Open does.
func Inspect(obj shm.Object) (Info, error) {
	h, g, err := kind.Inspect(obj)
	if err != nil {
		return Info{}, err
	}
	info := Info{ElemSize: int(h.ElemSize), Len: int(g.length), Locked: g.locked}
	if info.Locked {
		if info.Lock, err = semaphore.InspectMutexAt(obj, headerSize); err != nil {
			return Info{}, fmt.Errorf("array %q: inspect: %w", obj.Name, err)
		}
	}
	return info, nil
}
