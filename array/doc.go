// Package array keeps n fixed-size Go values in shared memory, for every
// process that maps the segment: Python's multiprocessing.Array and
// RawArray, with a zero-copy []T view.
//
//	size, _ := array.Size[int64](8)                   // heap bytes it takes (see shm.Heap)
//	seg, _ := shm.Anonymous(shm.Heap(size))
//	counts, _ := array.New[int64](seg, "counts", 8)
//	counts.Add(3, 1)                                  // one element, lock-free
//	_ = counts.Update(func(s []int64) { s[0] = s[1] }) // in place, under the lock
//	s := counts.Slice()                               // the shared memory itself
//	procs.Start(worker, counts)                       // crosses to a child as a handle
//
// T must be fixed-size: no pointers, strings, slices, maps, channels,
// funcs or interfaces at any depth. The constructors and Open refuse other
// types with ErrNotFixedSize and an error that names the field.
//
// # Python → array
//
//	Array('q', 8)                      array.New[int64](seg, name, 8)
//	Array('d', [1.0, 2.0])             array.FromSlice(seg, name, []float64{1, 2})
//	Array('q', 8, lock=False)          array.NewRaw[int64](seg, name, 8)
//	RawArray('i', [1, 2, 3])           array.RawFromSlice(seg, name, []int32{1, 2, 3})
//	len(a)                             a.Len()
//	a[i], a[i] = x                     a.At(i), a.Set(i, x)   (plain)
//	                                   a.Load(i), a.Store(i, x) (atomic)
//	a[:], a.get_obj()                  a.Slice()  (zero-copy view)
//	with a.get_lock(): a[0] += a[1]    a.Update(func(s []int64) { s[0] += s[1] })
//	                                   or a.Lock(); ...; a.Unlock()
//	a.get_lock()                       a.Mutex() (a *semaphore.Mutex)
//	passing a to Process(args=...)     passing a to procs.Start (GobEncode)
//
// Arrays have names: Open[T](seg, name) finds one made by another process,
// checking that its elements are T (shm.ErrTypeMismatch if not, by size and
// layout fingerprint) and that it is an Array, not a RawArray
// (shm.ErrKindMismatch; OpenRaw for those).
//
// # Indexing
//
// At, Set and every element atomic panic on an index out of range, with
// the runtime's own "index out of range" error, as indexing a slice does:
// an index is the caller's arithmetic, not input from another process.
//
// # What is atomic
//
// At, Set and Slice are plain memory accesses: not atomic, not locked.
// Use them under the lock (Update, Lock/Unlock), or with a discipline of
// your own (each process writing its own elements, say).
//
// Load, Store, Swap, CompareAndSwap and Add at an index are atomic,
// without the lock, for elements of 4 or 8 bytes that are one scalar
// (int32, uint32, int64, uint64, int, uint, uintptr, float32, float64,
// complex64, or types defined on them; Add for the integers only). An
// element there is one aligned machine word: the elements start 64-byte
// aligned and Go sizes are multiples of alignments. There are no 8- or
// 16-bit atomics, so 1- and 2-byte elements have none: guard them with the
// lock. Misuse panics, and the check is made once, at New/Open, so each
// element atomic is a bounds check, a switch on a field and one atomic
// instruction, inlined into the caller. CompareAndSwap compares bits.
//
// The lock (Array only) excludes other lockers, not element atomics or
// plain accesses by code that does not take it.
//
// # Crash semantics
//
// A process may die (SIGKILL) anywhere. An element atomic happened or did
// not. Update works in place, so a process that dies inside f (or between
// Lock and Unlock) leaves the elements as it had got them, perhaps half
// updated, and the lock held by a dead process. The next Lock or Update
// takes the lock over and reports semaphore.ErrOwnerDead:
//
//   - Lock returns it holding the lock: repair the elements, call
//     Mutex().MarkConsistent(), Unlock. An Unlock without MarkConsistent
//     makes the lock unusable for good (semaphore.ErrNotRecoverable), as
//     glibc's robust mutexes do.
//   - Update runs f anyway, on the elements as the dead holder left them
//     (f may repair them), marks the lock consistent and returns the
//     ErrOwnerDead error. Whether f ran is semaphore.Acquired(err).
//
// # Layout
//
// An array is one object of kind shm.KindArray, 64-byte aligned:
//
//	0    header    64 bytes: magic "MPAR", layout version, flags (locked),
//	               element size, length, data offset
//	64   mutex     semaphore.MutexSize bytes, a cache line of its own (Array only)
//	D    elements  D = 64 (RawArray) or 128 (Array): Len × ElemSize bytes,
//	               back to back as in a Go slice, padded to 8 bytes
//
// Open checks the header against T and against the object's size before
// building the view: shared memory written by another process is input, so
// a forged length or offset is an error (shm.ErrCorrupt), never a view past
// the object. Inspect describes an array object of any element type (for
// shmctl).
//
// # Lifetime
//
// An Array and its Slice view point into the segment's mapping and are
// valid while the segment is attached. A handle decoded in a child
// (GobDecode) holds its own segment handle, which Detach releases.
package array
