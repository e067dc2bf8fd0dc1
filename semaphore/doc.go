// Package semaphore provides Python's multiprocessing synchronization
// primitives — Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event
// and Barrier — shared by processes through a segment (package shm), and
// safe when a participant is killed.
//
// Every primitive lives in a segment. It is created by name (NewMutex(seg,
// name), NewSemaphore(seg, name, n), ...), opened by name in another
// process that has the segment (OpenMutex(seg, name), ...), and crosses to
// a child process as a procs argument: it gob-encodes as a handle (segment
// and object name) and re-attaches in the child. A Mutex can also be
// embedded in another object (MutexAt), which is how package value and
// package array guard their data.
//
// The uncontended paths are single atomic operations on shared words: no
// system call and no allocation. An uncontended Lock+Unlock costs what a
// sync.Mutex's does.
//
// # Python → semaphore
//
//	multiprocessing.Lock()                NewMutex(seg, name)
//	lock.acquire() / acquire(False)       mu.Lock() / mu.TryLock()
//	lock.acquire(timeout=t)               mu.LockTimeout(t), mu.LockContext(ctx)
//	lock.release()                        mu.Unlock()
//	multiprocessing.RLock()               NewRLock(seg, name); owner := NewOwner()
//	rlock.acquire() / release()           rl.Lock(owner) / rl.Unlock(owner)
//	Semaphore(n) / BoundedSemaphore(n)    NewSemaphore(seg, name, n) / NewBoundedSemaphore(seg, name, n)
//	sem.acquire(), acquire(False),        s.Acquire(), s.TryAcquire(),
//	    acquire(timeout=t)                    s.AcquireTimeout(t), s.AcquireContext(ctx)
//	sem.release(), sem.get_value()        s.Release(), s.Value()
//	Condition(lock)                       NewCondition(seg, name, lock)  (lock: *Mutex or *RLock)
//	cond.wait(), wait(timeout)            c.Wait(), c.WaitTimeout(t), c.WaitContext(ctx)
//	cond.wait_for(pred, timeout)          c.WaitFor(pred), c.WaitForTimeout(t, pred), c.WaitForContext(ctx, pred)
//	cond.notify(n), notify_all()          c.Notify(n), c.NotifyAll()
//	Event(): set, clear, is_set, wait     NewEvent(seg, name): Set, Clear, IsSet, Wait/WaitTimeout/WaitContext
//	Barrier(parties, action, timeout)     NewBarrier(seg, name, parties, action); WaitTimeout for the timeout
//	barrier.wait() → index                b.Wait() (int, error)
//	abort, reset, broken, n_waiting       b.Abort(), b.Reset(), b.Broken(), b.NWaiting(), b.Parties()
//	BrokenBarrierError                    ErrBrokenBarrier
//	ValueError (bounded release)          ErrBoundExceeded
//	RuntimeError (release unowned)        ErrNotOwner, ErrUnlocked
//	wait(timeout) returning False         ErrTimeout
//
// # Results
//
// TryX never blocks and fails with ErrWouldBlock; X blocks; XTimeout(d)
// fails with ErrTimeout (which errors.Is also matches to
// context.DeadlineExceeded); XContext(ctx) fails with ctx.Err(). Errors
// are wrapped with the primitive's kind and name. A lock call holds the
// lock when it returns nil or an error wrapping ErrOwnerDead (Acquired
// says which). A free lock or an available unit is taken even if the
// context is already done, as x/sync/semaphore does.
//
// # The Mutex lock word
//
// One 64-bit word; zero is an unlocked, consistent mutex, so a Mutex needs
// no initialization (MutexSize bytes, MutexAlign-aligned, the rest of the
// cache line reserved):
//
//	bits  0..51  holder: ID (shm.Segment.Self) of the holding process, 0 when free
//	bit  52      waiters: some process may be asleep on the word
//	bit  53      inconsistent: taken over from a dead holder, not yet MarkConsistent
//	bit  54      not recoverable: unlocked while inconsistent; dead for good
//	bit  55      RLock: the holder has recorded its Owner token
//
// The holder is the whole ID, which no other process is ever given; the
// futex waits on the word's low half only, which decides nothing (mutex.go
// says why that is safe). Lock is one CAS 0 → self; Unlock one CAS self → 0. A contended
// Lock spins briefly (a busy loop re-reading the word, then
// runtime.Gosched for a holder goroutine of this process, then
// sched_yield for a holder process waiting for this core: on a two-core
// machine spinning competes with the holder), then sets the waiters bit and
// futex-waits on the word (a shared futex: no FUTEX_PRIVATE_FLAG). Unlock
// wakes one sleeper only if the waiters bit is set, so no system call is
// made while nobody sleeps; a woken waiter takes the lock with the waiters
// bit set, since others may still sleep (Drepper, "Futexes Are Tricky").
//
// # Owner death
//
// Ownership is per process: the lock word names the holding process by
// its ID, from the instant of the acquiring CAS. A parked
// waiter sleeps in slices and, every 25 ms, asks the segment whether the
// holder still lives (shm.Segment.Alive: the participant table records pid
// and start time, so pid reuse cannot fool it; it reads /proc, so only the
// slow path does it). A failing TryLock asks at once. When the holder has
// died — killed, crashed, or detached from the segment while holding the
// lock — one caller replaces the dead ID with its own by CAS and sets
// the inconsistent bit, and gets ErrOwnerDead (EOWNERDEAD): it holds the
// lock, repairs the data, calls MarkConsistent, and unlocks. Unlocking
// without MarkConsistent makes the lock not recoverable: every later lock
// call, in every process, fails with ErrNotRecoverable (glibc's robust
// mutex semantics). A waiter parked behind a dead holder learns of it
// within about 25 ms plus scheduling delay.
//
// Any goroutine of the holding process may unlock a Mutex (as with
// sync.Mutex); another process gets ErrNotOwner. The kernel's robust-futex
// list cannot serve here: it is per OS thread, and goroutines move between
// threads.
//
// RLock adds an Owner token and a depth to the same word. Go has no
// goroutine identity, so every RLock call takes an explicit Owner
// (NewOwner: unique in the process; the lock word's ID makes it unique
// across processes). Re-entry requires the process's ID, the recorded bit
// and the token to match; release by another owner fails with ErrNotOwner.
// A takeover from a dead holder resets the depth to 1, and until the new
// holder has recorded its token no token passes (rlock.go).
//
// # Other primitives
//
// Semaphore: a value word (the futex word) and a sleepers count; Acquire
// is a CAS v → v-1, Release a CAS v → v+1 plus a wake only if someone
// sleeps. Units are not owned: units held by a process that dies are not
// given back (Python's are not either).
//
// Event: one word, a flag bit and a generation bumped by every Set, so a
// waiter asleep across a Set and a Clear still returns (threading.Event's
// promise).
//
// Condition: waiters take tickets under the lock, and Notify(n) grants the
// n oldest live tickets, so exactly min(n, waiting) waiters return and no
// notification is lost; a waiter that times out withdraws its ticket. The
// lock must be held by this process to Wait or Notify (else
// ErrNotOwner); Wait re-locks before returning and reports ErrOwnerDead if
// the lock was taken over from a dead holder meanwhile. Waiting on an
// inconsistent lock fails with ErrOwnerDead (unlocking it would make it
// unrecoverable): MarkConsistent first. A waiter killed while waiting
// keeps its ticket, so one Notify may be spent on it. If more than 32
// withdrawn tickets sit between live ones, every waiter is woken instead
// (spurious wake-ups, never a lost one): use WaitFor.
//
// Barrier: one 64-bit state word updated by CAS (arrivals, broken bit,
// round number, and the outcome of the last 32 rounds), with its low half
// as the futex word. The action is a Go func and cannot cross processes:
// it runs in the process of the last arrival, using that handle's action
// (NewBarrier, OpenBarrier, SetAction); give all participants the same
// one. A timeout, a cancelled context, Abort, a failing or panicking
// action, and a dead participant break the barrier for every waiter with
// ErrBrokenBarrier, whose message says why. Dead participants are
// detected as follows: a process that has waited on the barrier is a
// member (up to 64); a waiter asleep for 50 ms checks every member that
// has not arrived in the current round, and the process running the
// action, and breaks the round if one has died. Not detected: a process
// that dies before its first Wait, a live process that stops coming (use
// a timeout). A process that leaves for good calls Leave, or its exit
// breaks the next round it misses.
//
// # Inspection
//
// InspectMutex, InspectMutexAt, InspectRLock, InspectSemaphore,
// InspectEvent, InspectCondition and InspectBarrier read a primitive's
// words atomically without writing anything, for tools such as shmctl.
//
// # Caveats
//
// Handles point into the segment's mapping: keep the segment attached
// while any handle is in use, including by goroutines still blocked in a
// wait. A handle decoded from gob holds its own segment handle, released
// by its Close. A process killed while asleep leaves a sleepers count one
// too high: later wakers make one needless system call, never a wrong
// decision.
package semaphore
