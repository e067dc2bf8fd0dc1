package semaphore

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// The lock word. One 64-bit word, zero when unlocked and consistent, so a
// Mutex needs no initialization and can sit in any zeroed memory:
//
//	bits  0..51  holder: ID (shm.Segment.Self) of the process holding the
//	             lock, 0 when unlocked
//	bit  52      waiters: some process may be asleep on the word; the
//	             unlocker must wake one
//	bit  53      inconsistent: the holder took the lock over from a dead
//	             owner and has not called MarkConsistent yet
//	bit  54      not recoverable: a holder unlocked while inconsistent; the
//	             lock is dead for good (holder 0, nothing else set)
//	bit  55      RLock only: the holder has recorded its Owner token (rlock.go)
//	bits 56..63  zero; a word with any of them set is corrupt
//
// Protocol (Drepper, "Futexes Are Tricky", mutex #3, with the holder's ID
// in place of the constant 1):
//
//	lock:    CAS 0 → self. Failing that, spin a little re-trying the CAS,
//	         then set the waiters bit (CAS) and futex-wait on the word while
//	         it holds that very value. A waiter that wakes and takes the
//	         lock takes it with the waiters bit set, since it cannot know
//	         whether others still sleep: at worst its unlock makes one
//	         needless wake.
//	unlock:  CAS self → 0; if the old word had the waiters bit, wake one.
//
// The word names its holder from the first instant (the acquiring CAS
// writes the ID), so there is no window in which a holder could die
// without being named. A parked waiter sleeps in slices of ownerCheckEvery
// and, when one passes, asks the segment whether the holder still lives;
// if not, it replaces the dead ID with its own by CAS (so only one waiter
// wins) and sets the inconsistent bit, and the caller gets ErrOwnerDead.
// Go atomics are sequentially consistent, which the waiters-bit handshake
// relies on: a waiter's CAS setting the bit and an unlocker's CAS clearing
// the word are ordered one way or the other, so either the unlocker sees
// the bit or the waiter's futex wait fails with EAGAIN.
//
// Why the whole ID, in a 64-bit word. Everything the lock hands over
// (ErrOwnerDead to the next locker, Unlock and HeldBySelf to its holder) is
// decided on the ID in the word, and an ID is never handed to another
// process (shm's participant.go), so a dead holder's word can never be
// taken for a live stranger's, nor a stranger for the holder, however many
// processes come and go. The word is CASed whole; only the futex, which
// waits on 32 bits, sees a short form: the low half (index and 22 bits of
// generation). The futex compares, and never decides: a word that changed
// in its high half only (a new holder whose short form equals the old
// one's, after 2^22 attaches of one participant slot, or the waiters bit)
// lets a waiter sleep past the change, and the slice (ownerCheckEvery)
// ends that sleep; the waiter then reads the whole word again.
const (
	mutexHolder         = 1<<shm.IDBits - 1
	mutexWaiters        = 1 << shm.IDBits
	mutexInconsistent   = mutexWaiters << 1
	mutexNotRecoverable = mutexWaiters << 2
	mutexOwnerRecorded  = mutexWaiters << 3
	mutexKnown          = mutexHolder | mutexWaiters | mutexInconsistent | mutexNotRecoverable | mutexOwnerRecorded
)

// MutexSize is how many bytes a Mutex takes inside another object: one
// cache line, so the lock word shares it with nothing that other processes
// write. Only the first 8 bytes are used today; the rest is reserved and
// must stay zero.
const MutexSize = 64

// MutexAlign is the alignment MutexAt requires of a Mutex's offset.
const MutexAlign = 64

// A Mutex is a lock shared by processes, Python's multiprocessing.Lock.
// It lives in a segment: as a named object (NewMutex, OpenMutex) or
// embedded in another object (MutexAt). Its zero memory is an unlocked,
// consistent mutex.
//
// Ownership is per process, like sync.Mutex's is per program: any goroutine
// of the holding process may unlock it, and a goroutine that locks a mutex
// its own process holds waits for it like any other caller. Another
// process unlocking it gets ErrNotOwner.
//
// A *Mutex is a handle: copy the pointer, not the struct. It is safe for
// concurrent use and crosses to a child process as a procs argument.
type Mutex struct {
	word  *uint64 // the lock word in the mapping
	futex *uint32 // its low half, where sleepers wait
	self  uint64  // this process's ID in seg

	seg  *shm.Segment
	name string  // for error messages
	kind string  // "mutex", or the embedding primitive's kind, for error messages
	obj  string  // name of the object the word lives in, for handles
	off  uintptr // offset of the mutex within obj

	shm.Attachment // what GobDecode attached; Detach releases it
}

// NewMutex creates an unlocked mutex named name in seg.
func NewMutex(seg *shm.Segment, name string) (*Mutex, error) {
	obj, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindMutex, Size: MutexSize}, nil)
	if err != nil {
		return nil, fmt.Errorf("mutex %q: create: %w", name, err)
	}
	return MutexAt(obj, 0, name), nil
}

// OpenMutex opens the mutex named name in seg, created by NewMutex in this
// or another process.
func OpenMutex(seg *shm.Segment, name string) (*Mutex, error) {
	obj, err := seg.OpenObject(name, shm.KindMutex, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("mutex %q: open: %w", name, err)
	}
	if obj.Size < MutexSize {
		return nil, fmt.Errorf("mutex %q: open: %w: %d bytes", name, shm.ErrCorrupt, obj.Size)
	}
	return MutexAt(obj, 0, name), nil
}

// MutexAt returns the mutex embedded at byte off of obj, which must be a
// multiple of MutexAlign with MutexSize bytes reserved there; zero bytes are
// an unlocked mutex, so the embedding object needs no initialization for
// it. name is used in error messages only. MutexAt panics if the range is
// outside obj or misaligned: offsets come from the caller's layout
// constants, not from shared memory.
func MutexAt(obj shm.Object, off uintptr, name string) *Mutex {
	if off%MutexAlign != 0 || uint64(off)+MutexSize > obj.Size {
		panic(fmt.Sprintf("semaphore: mutex %q at %d outside object %q of %d bytes or not %d-byte aligned",
			name, off, obj.Name, obj.Size, MutexAlign))
	}
	seg := obj.Segment()
	w := obj.Uint64(off)
	return &Mutex{word: w, futex: lowHalf(w), self: seg.Self(), seg: seg, name: name, kind: "mutex", obj: obj.Name, off: off}
}

// Name returns the name given at creation or in MutexAt.
func (m *Mutex) Name() string { return m.name }

// Lock locks m, waiting as long as it takes. It returns nil, or an error
// wrapping ErrOwnerDead when it took the lock over from a dead holder (the
// caller holds the lock then: repair, MarkConsistent, Unlock), or
// ErrNotRecoverable, or shm.ErrCorrupt for a word no Mutex writes.
func (m *Mutex) Lock() error { return m.lock(futex.Block()) }

// TryLock locks m if it can without waiting. It returns nil when it got
// the lock, ErrWouldBlock (wrapped) when a live process holds it, and
// ErrOwnerDead when it took it over from a dead holder. When the lock is
// held by another process it checks that process is alive, which reads
// /proc: a failing TryLock costs microseconds, not nanoseconds.
func (m *Mutex) TryLock() error { return m.lock(futex.NoWait()) }

// LockContext is Lock that gives up when ctx ends, returning ctx.Err()
// (wrapped) and leaving m as it was. A free mutex is taken even if ctx is
// already done (as x/sync/semaphore does).
func (m *Mutex) LockContext(ctx context.Context) error { return m.lock(futex.WithContext(ctx)) }

// LockTimeout is Lock that gives up after d, returning ErrTimeout
// (wrapped). d <= 0 makes it TryLock, without the liveness check.
func (m *Mutex) LockTimeout(d time.Duration) error { return m.lock(timeoutBound(d)) }

// lock is every Lock form. Its fast path, grabbing an unlocked mutex,
// inlines into the shells; the rest is outlined.
func (m *Mutex) lock(b futex.Bound) error {
	if !atomic.CompareAndSwapUint64(m.word, 0, m.self) {
		return m.lockSlow(b)
	}
	return nil
}

func (m *Mutex) tryLockSlow() error {
	s := atomic.LoadUint64(m.word)
	if err := m.checkWord(s, "trylock"); err != nil {
		return err
	}
	for {
		if s&mutexHolder == 0 {
			if atomic.CompareAndSwapUint64(m.word, s, m.self|s&mutexWaiters) {
				return nil
			}
		} else if taken, err := m.takeOverIfDead(s, "trylock"); taken {
			return err
		} else {
			return fmt.Errorf("%s %q: trylock: %w", m.kind, m.name, ErrWouldBlock)
		}
		s = atomic.LoadUint64(m.word)
		if err := m.checkWord(s, "trylock"); err != nil {
			return err
		}
	}
}

// checkWord refuses a not-recoverable or corrupt word.
func (m *Mutex) checkWord(s uint64, op string) error {
	if s&^mutexKnown != 0 || (s&mutexNotRecoverable != 0 && s != mutexNotRecoverable) {
		return fmt.Errorf("%s %q: %s: %w: lock word %#x", m.kind, m.name, op, shm.ErrCorrupt, s)
	}
	if s == mutexNotRecoverable {
		return fmt.Errorf("%s %q: %s: %w", m.kind, m.name, op, ErrNotRecoverable)
	}
	return nil
}

// takeOverIfDead takes the lock from its holder in word s if that holder
// has died, and reports whether it did (with the ErrOwnerDead to return).
// Only one caller can win: the CAS replaces exactly the dead holder's word.
func (m *Mutex) takeOverIfDead(s uint64, op string) (bool, error) {
	holder := s & mutexHolder
	if holder == 0 || holder == m.self || m.seg.Alive(holder) {
		return false, nil
	}
	// Keep the waiters bit: others may sleep behind the dead holder and our
	// unlock must wake them.
	if !atomic.CompareAndSwapUint64(m.word, s, m.self|s&mutexWaiters|mutexInconsistent) {
		return false, nil
	}
	return true, fmt.Errorf("%s %q: %s: holder %#x died: %w", m.kind, m.name, op, holder, ErrOwnerDead)
}

// lockSlow waits for the lock as b allows: spin (futex.Brief), then
// park in slices, checking the holder's liveness between slices.
//
// Why not futex.Gate.Await, as every other wait here: the lock word
// itself carries the waiters bit, so an unlock learns from its own CAS
// whether to wake, with no second word to read; and it can neither
// overcount nor be left set by a killed sleeper for long, since the next
// unlock clears it. A gate would add a sleepers line that every
// contended unlock reads.
func (m *Mutex) lockSlow(b futex.Bound) error {
	if b.Try() {
		return m.tryLockSlow()
	}
	const op = "lock"
	ctx := b.Context()
	spinOK := b.Err() == nil // an expired bound (LockTimeout(0)) makes one attempt
	parked := false
	var check every
	for i := 0; ; i++ {
		s := atomic.LoadUint64(m.word)
		if err := m.checkWord(s, op); err != nil {
			return err
		}
		if s&mutexHolder == 0 {
			// Free. A waiter that has slept takes it with the waiters bit
			// set: the unlock that woke it cleared the bit, and others may
			// still sleep.
			nw := m.self | s&mutexWaiters
			if parked {
				nw |= mutexWaiters
			}
			if atomic.CompareAndSwapUint64(m.word, s, nw) {
				return nil
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			m.giveUp(parked)
			return fmt.Errorf("%s %q: %s: %w", m.kind, m.name, op, err)
		}
		if i < futex.BriefRounds && spinOK {
			futex.BriefRound(i, func() bool { return atomic.LoadUint32(m.futex) != uint32(s) })
			continue
		}
		slice, err := b.Sleep(ownerCheckEvery)
		if err != nil {
			m.giveUp(parked)
			return fmt.Errorf("%s %q: %s: %w", m.kind, m.name, op, err)
		}
		if check.due(ownerCheckEvery) {
			if taken, err := m.takeOverIfDead(s, op); taken {
				return err
			}
		}
		// Announce the sleep before sleeping; if the word moved meanwhile,
		// look again instead.
		if s&mutexWaiters == 0 {
			if !atomic.CompareAndSwapUint64(m.word, s, s|mutexWaiters) {
				continue
			}
			s |= mutexWaiters
		}
		parked = true
		// The slice ends at the next liveness check at the latest.
		slice = min(slice, max(time.Until(check.next), time.Millisecond))
		err = futex.WaitContext(ctx, m.futex, uint32(s), slice)
		if cerr := ctx.Err(); cerr != nil {
			m.giveUp(parked)
			return fmt.Errorf("%s %q: %s: %w", m.kind, m.name, op, cerr)
		}
		if err != nil && err != futex.ErrTimeout {
			return fmt.Errorf("%s %q: %s: futex: %w", m.kind, m.name, op, err)
		}
	}
}

// giveUp passes a wake-up on when a waiter that has slept leaves without
// the lock: an unlock may have woken it (clearing the waiters bit) just as
// its context ended, and the sleepers behind it must not wait for the next
// liveness check to notice the lock is free.
func (m *Mutex) giveUp(parked bool) {
	if parked && atomic.LoadUint64(m.word)&mutexHolder == 0 {
		_, _ = futex.Wake(m.futex, 1)
	}
}

// Unlock unlocks m. It returns ErrUnlocked if m is not locked and
// ErrNotOwner if another process holds it. Unlocking while inconsistent
// (after ErrOwnerDead, without MarkConsistent) makes m not recoverable for
// good and returns nil, as glibc's robust mutexes do.
func (m *Mutex) Unlock() error {
	// Fast path: nobody waits, nothing to report.
	if atomic.CompareAndSwapUint64(m.word, m.self, 0) {
		return nil
	}
	return m.unlockSlow()
}

func (m *Mutex) unlockSlow() error {
	for {
		s := atomic.LoadUint64(m.word)
		if err := m.checkWord(s, "unlock"); err != nil {
			return err
		}
		switch holder := s & mutexHolder; {
		case holder == 0:
			return fmt.Errorf("%s %q: unlock: %w", m.kind, m.name, ErrUnlocked)
		case holder != m.self:
			return fmt.Errorf("%s %q: unlock: held by %#x: %w", m.kind, m.name, holder, ErrNotOwner)
		}
		var nw uint64
		if s&mutexInconsistent != 0 {
			nw = mutexNotRecoverable
		}
		if !atomic.CompareAndSwapUint64(m.word, s, nw) {
			continue // a waiter set the waiters bit meanwhile
		}
		if s&mutexWaiters != 0 {
			if nw == mutexNotRecoverable {
				// Every waiter must learn it, not just the next one.
				_, _ = futex.WakeAll(m.futex)
			} else {
				_, _ = futex.Wake(m.futex, 1)
			}
		}
		return nil
	}
}

// MarkConsistent declares the data m guards repaired after ErrOwnerDead,
// so that Unlock leaves m usable. It returns ErrNotOwner unless this
// process holds m; on a consistent mutex it does nothing.
func (m *Mutex) MarkConsistent() error {
	for {
		s := atomic.LoadUint64(m.word)
		if err := m.checkWord(s, "mark consistent"); err != nil {
			return err
		}
		if s&mutexHolder != m.self {
			return fmt.Errorf("%s %q: mark consistent: %w", m.kind, m.name, ErrNotOwner)
		}
		if s&mutexInconsistent == 0 || atomic.CompareAndSwapUint64(m.word, s, s&^mutexInconsistent) {
			return nil
		}
	}
}

// Locked reports whether some process holds m (a snapshot).
func (m *Mutex) Locked() bool { return atomic.LoadUint64(m.word)&mutexHolder != 0 }

// HeldBySelf reports whether this process holds m (a snapshot).
func (m *Mutex) HeldBySelf() bool { return atomic.LoadUint64(m.word)&mutexHolder == m.self }

// State reads m's lock word without changing it (see MutexState).
func (m *Mutex) State() MutexState { return mutexState(m.seg, atomic.LoadUint64(m.word)) }

// GobEncode encodes a handle on m, so that m can be passed to a child
// process as an argument.
func (m *Mutex) GobEncode() ([]byte, error) { return shm.EncodeRef(m.seg, m.obj, m.off) }

// GobDecode re-attaches a handle encoded by GobEncode: a named Mutex, or
// one embedded in an object of another kind (MutexAt).
func (m *Mutex) GobDecode(b []byte) error {
	err := shm.Decode(&m.Attachment, b, shm.Want{Kind: shm.AnyKind}, func(obj shm.Object, off uint64) error {
		if off%MutexAlign != 0 || off > obj.Size || obj.Size-off < MutexSize {
			return fmt.Errorf("%w: offset %d in object %q of %d bytes", shm.ErrCorrupt, off, obj.Name, obj.Size)
		}
		name := obj.Name
		if obj.Kind != shm.KindMutex || off != 0 {
			name = fmt.Sprintf("%s+%d", obj.Name, off)
		}
		*m = *MutexAt(obj, uintptr(off), name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("mutex: decode: %w", err)
	}
	return nil
}
