package array

import (
	"fmt"

	"github.com/multiproc-go/multiproc/shm"
)

// Size returns how many bytes of a segment's heap New[T](seg, name, n)
// takes (its lock included), so that a segment can be sized from what it
// will hold: see shm.Heap. It fails as New would.
func Size[T any](n int) (int, error) { return size[T](n, true) }

// RawSize is Size for NewRaw[T], which has no lock.
func RawSize[T any](n int) (int, error) { return size[T](n, false) }

func size[T any](n int, locked bool) (int, error) {
	ti, err := typeOf[T]()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("array: %w: negative length %d", shm.ErrInvalidSize, n)
	}
	g, err := computeGeometry(uint64(ti.Size), uint64(n), locked)
	if err != nil {
		return 0, err
	}
	return int(g.size), nil
}
