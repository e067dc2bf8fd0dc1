package shm

// Heap returns how many heap bytes objects of the given sizes take in one
// segment: each object starts on a 64-byte boundary, so each size counts
// rounded up to a multiple of 64. Pass it what the kinds' size helpers say
// (value.Size, array.Size, semaphore.MutexSize and its siblings,
// ringqueue.Size, ringqueue.TypedSize, KindBytes objects' own sizes) and
// give the result to Create or Anonymous, instead of guessing:
//
//	vs, _ := value.Size[int64]()
//	qs, _ := ringqueue.TypedSize[Job](ringqueue.Options{Capacity: 1024})
//	seg, err := shm.Create(name, shm.Heap(vs, qs, semaphore.MutexSize))
//
// Heap does not count directory entries: a segment holds DefaultObjects
// objects unless WithObjects says more. A negative size counts as zero.
func Heap(sizes ...int) int {
	total := 0
	for _, n := range sizes {
		total += int(alignUp(uint64(max(n, 0)), objectAlign))
	}
	return total
}
