// Package semaphore provides Python's multiprocessing synchronization
// primitives — Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event
// and Barrier — shared by processes through a segment (package shm), and
// safe when a participant is killed.
//
// Make a primitive in a segment, pass it to a child like any other
// argument, and use it there as you would a sync.Mutex:
//
//	seg, _ := shm.Anonymous(1 << 16)
//	defer seg.Detach()
//	mu, _ := semaphore.NewMutex(seg, "mu")
//	p, _ := procs.Start(work, mu) // the child gets a handle to the same lock
//
//	if err := mu.Lock(); errors.Is(err, semaphore.ErrOwnerDead) {
//		// a process died holding it: repair what it guards, then
//		_ = mu.MarkConsistent()
//	}
//	// ... the critical section ...
//	_ = mu.Unlock()
//	_ = p.Join()
//
// Every primitive is created by name (NewMutex(seg, name),
// NewSemaphore(seg, name, n), ...) and opened by name in another process
// that has the segment (OpenMutex(seg, name), ...); as a procs argument
// it re-attaches in the child by itself. A Mutex can also sit inside
// another object (MutexAt), which is how package value and package array
// guard their data. An uncontended Lock+Unlock costs what a sync.Mutex's
// does: no system call, no allocation.
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
// # When a process dies
//
// A Mutex or RLock held by a process that dies (killed, crashed, or
// detached from the segment while holding it) is not lost: the next
// caller to lock it, in any process, gets it together with ErrOwnerDead
// (POSIX's EOWNERDEAD). That caller holds the lock, repairs the data it
// guards, calls MarkConsistent, and unlocks. Unlocking without
// MarkConsistent makes the lock unrecoverable: every later lock call, in
// every process, fails with ErrNotRecoverable (glibc's robust-mutex
// rules). A waiter already asleep behind the dead holder learns of it
// within about 25 ms. Pid reuse cannot fool this: a process is known by
// an identity that is never handed out twice.
//
// Any goroutine of the holding process may unlock a Mutex (as with
// sync.Mutex); another process gets ErrNotOwner. Go has no goroutine
// identity, so an RLock asks each call for an explicit Owner (NewOwner)
// to decide re-entry.
//
// Semaphore units are not owned: units held by a process that dies are
// not given back (Python's are not either); use a Mutex where a holder's
// death must be noticed. A Condition waiter killed while waiting may use
// up one Notify, and waiting on a lock still inconsistent fails with
// ErrOwnerDead: MarkConsistent first. A Barrier breaks (ErrBrokenBarrier, saying why) when a
// process that has waited on it before dies instead of arriving; one that
// dies before its first Wait, or lives but stops coming, is not noticed:
// give Wait a timeout. A process that leaves for good calls Leave. The
// Barrier's action is a Go func, which cannot cross processes: it runs in
// the last arrival's process, so give every participant the same one.
//
// How each primitive does this is written beside its code: the lock word
// and its protocol in mutex.go, re-entry in rlock.go, tickets in
// condition.go, rounds and members in barrier.go, spinning in wait.go.
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
// by its Detach. A process killed while asleep on a Semaphore, Event,
// Condition or Barrier leaves a sleepers count one too high; the wakers
// notice that their wakes find nobody and repair the count within 64
// signals (internal/futex's Gate), needless system calls until then,
// never a wrong decision.
//
// Every blocking operation has Try, Context and Timeout forms, except
// Condition.Wait (a wait that may not wait would only unlock and lock
// again). Event.TryWait is IsSet as an error; Barrier.TryWait passes only
// as the round's last arrival and otherwise changes nothing.
package semaphore
