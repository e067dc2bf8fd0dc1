// Package semaphore provides Python's multiprocessing synchronization
// primitives — Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event
// and Barrier — shared by processes through a segment (package shm).
//
// Every primitive lives in a segment, is created by name (NewX(seg, name,
// ...)) and opened by name in another process (OpenX(seg, name)), and
// crosses to a child process as a procs argument (it gob-encodes as a
// handle). The uncontended paths are plain atomics on the shared words: no
// system call, no allocation.
//
// The full documentation (lock-word layouts, futex protocol, owner-death
// rules, Python mapping) is in the sections below.
package semaphore
