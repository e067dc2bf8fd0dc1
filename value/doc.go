// Package value keeps one fixed-size Go value in shared memory, for every
// process that maps the segment: Python's multiprocessing.Value and
// RawValue, at the speed of atomics.
//
//	size, _ := value.Size[int64]()                // heap bytes it takes (see shm.Heap)
//	seg, _ := shm.Anonymous(shm.Heap(size))
//	hits, _ := value.New[int64](seg, "hits", 0)
//	hits.Add(1)                                   // lock-free
//	_ = hits.Update(func(n *int64) { *n *= 2 })   // under the value's lock
//	procs.Start(worker, hits)                     // crosses to a child as a handle
//
// T must be fixed-size: no pointers, strings, slices, maps, channels, funcs
// or interfaces at any depth, so that its bytes mean the same in every
// process. New and Open refuse other types with ErrNotFixedSize and an
// error that names the field ("Order.Items holds a slice").
//
// # Python → value
//
//	Value('q', 0)                     value.New[int64](seg, name, 0)
//	Value('q', 0, lock=False)         value.NewRaw[int64](seg, name, 0)
//	RawValue('d', 1.5)                value.NewRaw(seg, name, 1.5)
//	v.value                           v.Load()
//	v.value = x                       v.Store(x)
//	with v.get_lock(): v.value += 1   v.Update(func(n *int64) { *n++ })
//	                                  or v.Lock(); v.Store(v.Load()+1); v.Unlock()
//	                                  or, lock-free, v.Add(1)
//	v.get_lock()                      v.Mutex() (a *semaphore.Mutex), v.Lock/Unlock
//	v.get_obj()                       none: the value is reached only through
//	                                  atomic operations (for a zero-copy view
//	                                  of shared memory see package array)
//	passing v to Process(args=...)    passing v to procs.Start (GobEncode)
//
// Values have names: Open[T](seg, name) finds one made by another process
// (or the same), checking that it holds a T (shm.ErrTypeMismatch if not,
// by element size and layout fingerprint) and that it is a Value, not a
// RawValue (shm.ErrKindMismatch; OpenRaw for those).
//
// # What is atomic
//
// Load, Store, Swap and CompareAndSwap are atomic for every T, with respect
// to each other and in every process, and none of them takes the lock:
//
//   - A T of at most 8 bytes lives in one 8-byte word and each operation
//     is one atomic instruction. For a T of exactly 4 or 8 bytes without
//     padding (int32, float64, [2]int32, ...) nothing else happens; other
//     small types are packed into the word with their padding zeroed.
//   - A larger T is double-buffered under a sequence word (a seqlock with
//     two copies): Load copies the current buffer and retries if a store
//     completed meanwhile, so it never blocks and never sees a mix of two
//     values; Store, Swap and CompareAndSwap write the other buffer and
//     then publish it, serialized among themselves by a short internal
//     writer claim (a word holding the writer's process ID) that is
//     not the value's lock, so they may be called with or without it.
//
// CompareAndSwap compares bytes, padding excluded: floats compare bitwise.
// Add is lock-free for 4- and 8-byte integer types (int32, uint32, int64,
// uint64, int, uint, uintptr, and types defined on them): one atomic add,
// inlined into the caller, so an uncontended Add costs what
// atomic.Int64.Add does (BenchmarkAdd). Add on any other T panics — a
// 1- or 2-byte integer has no atomic add (use CompareAndSwap in a loop, or
// Update) — and the check is made once, at New/Open: T is known there and
// Add stays a switch on a field and an intrinsic.
//
// The lock (Value only) makes compound updates atomic. Update(f) runs f on
// a copy of the value under the lock and stores the result with one atomic
// Store. The lock excludes other lockers only: a lock-free Store or Add by
// someone who does not hold it can fall between Update's read and write
// and be overwritten. Give each value one discipline.
//
// # Crash semantics
//
// A process may die (SIGKILL) anywhere:
//
//   - in a lock-free operation: the operation happened or it did not. For
//     a buffered T, a writer that dies mid-copy has torn only the buffer
//     nobody reads; its writer claim is taken over by the next writer once
//     that one finds the claimant's process dead (it checks every 5 ms
//     while it waits).
//   - holding the lock: the next Lock or Update takes the lock over and
//     reports semaphore.ErrOwnerDead. The value itself is whole (every
//     write to it is atomic), but whatever the dead holder was doing under
//     the lock may be half done. Lock returns the error holding the lock:
//     repair, call Mutex().MarkConsistent(), Unlock (an Unlock without
//     MarkConsistent makes the lock unusable, semaphore.ErrNotRecoverable,
//     as glibc's robust mutexes do). Update runs f anyway, stores, marks the
//     lock consistent and returns the ErrOwnerDead error; whether f ran is
//     semaphore.Acquired(err).
//
// # Layout
//
// A value is one object of kind shm.KindValue, 64-byte aligned:
//
//	0    header   64 bytes: magic "MPVL", layout version, flags (locked),
//	              element size, data offset, buffer stride and count; then
//	              the seqlock's sequence and writer words (buffered T only)
//	64   mutex    semaphore.MutexSize bytes, a cache line of its own (Value only)
//	D    data     D = 64 (RawValue) or 128 (Value); one 8-byte word for a T
//	              of up to 8 bytes, else two buffers, each rounded up to
//	              whole cache lines
//
// Open checks the header against T and the object's size before using
// it: shared memory written by another process is input, and a forged
// header is an error (shm.ErrCorrupt, shm.ErrVersion), never a fault.
// Inspect describes a value object of any type (for shmctl).
//
// # Lifetime
//
// A Value is a handle on memory in its segment, valid while the segment is
// attached. A handle decoded in a child (GobDecode) holds its own segment
// handle, which Detach releases; values from New and Open hold none.
package value
