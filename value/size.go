package value

// Size returns how many bytes of a segment's heap New[T] takes (its lock
// included), so that a segment can be sized from what it will hold: see
// shm.Heap. It fails as New would for a T that is not fixed-size.
func Size[T any]() (int, error) { return size[T](true) }

// RawSize is Size for NewRaw[T], which has no lock.
func RawSize[T any]() (int, error) { return size[T](false) }

func size[T any](locked bool) (int, error) {
	ti, err := typeOf[T]()
	if err != nil {
		return 0, err
	}
	return int(computeGeometry(ti.Size, locked).size), nil
}
