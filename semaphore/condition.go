package semaphore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// A Condition's object:
//
//	  0  lock reference (see locker.go), written once before publication
//	128  tickets   uint32: the next ticket to hand out
//	132  granted   uint32: every ticket before it is granted
//	136  sleepers  uint32: the gate's sleepers word (epoch | count)
//	140  nholes    uint32: entries used in holes
//	144  holes     [32]uint32: cancelled tickets between granted and tickets
//	272  seq       uint32: the gate's futex word (futex.Gate)
//
// Tickets. A waiter, holding the lock, takes ticket t = tickets++, unlocks,
// and sleeps until granted has passed t; then it locks again. Notify(n),
// holding the lock, moves granted on by up to n live tickets, oldest
// first, and wakes the sleepers if there are any. So Notify(n) lets
// exactly min(n, waiting) waiters return, the ones that waited longest,
// and a waiter that took its ticket before a Notify can never miss it: the
// ticket was taken under the lock, so the Notify counts it.
//
// The futex wake is a broadcast: waiters sleep on the one gate and the
// kernel's wake order need not match the tickets, so every sleeper wakes,
// compares granted with its ticket, and the ones not yet granted sleep
// again.
//
// A waiter that gives up (timeout, cancelled context) locks again and,
// under the lock, either finds its ticket granted meanwhile (it takes the
// notification: Wait returns nil) or withdraws it: the oldest ticket is
// withdrawn by moving granted past it, the newest by moving tickets back,
// any other by recording it in holes, which Notify skips without counting.
// If holes is full, the waiter grants every ticket instead: all current
// waiters wake, some spuriously, but none misses a notification.
//
// All fields but granted's readers are used under the lock only. A
// waiter killed while waiting keeps its ticket, so one later Notify may
// be spent on it (as in Python); its count in sleepers is repaired by the
// broadcasts that find fewer sleepers than counted (futex.Gate). A holder killed in the middle of Notify
// leaves the next locker ErrOwnerDead; the fields are re-validated on
// every use, and stale holes are dropped.
const (
	condTicketsOff  = 128
	condGrantedOff  = 132
	condSleepersOff = 136
	condNHolesOff   = 140
	condHolesOff    = 144
	condMaxHoles    = 32
	condSeqOff      = condHolesOff + 4*condMaxHoles
	condSize        = condSeqOff + 4
)

// A Condition is a condition variable shared by processes, Python's
// multiprocessing.Condition, over a Mutex or an RLock in the same segment.
// Its methods must be called with the lock held by this process (any of
// its goroutines: the check is per process, as the lock's ownership is for
// a Mutex), else they fail with ErrNotOwner. Wait always returns with the
// lock held again, except when the lock itself fails (ErrNotRecoverable,
// a corrupt word); if the lock was taken over from a dead holder while
// re-acquiring it, Wait's error wraps ErrOwnerDead, as Lock's would.
//
// A *Condition is a handle, safe for concurrent use; it crosses to a child
// process as a procs argument, and its lock comes with it.
type Condition struct {
	lock    Locker
	tickets *uint32
	granted *uint32
	gate    futex.Gate
	nholes  *uint32
	holes   *[condMaxHoles]uint32
	name    string
	seg     *shm.Segment

	shm.Attachment // what GobDecode attached; Detach releases it
}

// NewCondition creates a condition named name in seg over lock, a *Mutex
// or *RLock living in seg.
func NewCondition(seg *shm.Segment, name string, lock Locker) (*Condition, error) {
	if lock == nil {
		return nil, fmt.Errorf("condition %q: create: %w: nil lock", name, ErrInvalid)
	}
	obj, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindCondition, Size: condSize}, func(mem []byte) error {
		return writeLockRef(mem, seg, lock)
	})
	if err != nil {
		return nil, fmt.Errorf("condition %q: create: %w", name, err)
	}
	return conditionAt(obj, lock), nil
}

// OpenCondition opens the condition named name in seg, and its lock.
func OpenCondition(seg *shm.Segment, name string) (*Condition, error) {
	obj, err := seg.OpenObject(name, shm.KindCondition, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("condition %q: open: %w", name, err)
	}
	return openCondition(obj)
}

func openCondition(obj shm.Object) (*Condition, error) {
	if obj.Size < condSize {
		return nil, fmt.Errorf("condition %q: open: %w: %d bytes", obj.Name, shm.ErrCorrupt, obj.Size)
	}
	lock, err := readLockRef(obj)
	if err != nil {
		return nil, fmt.Errorf("condition %q: open: %w", obj.Name, err)
	}
	return conditionAt(obj, lock), nil
}

func conditionAt(obj shm.Object, lock Locker) *Condition {
	return &Condition{
		lock:    lock,
		tickets: obj.Uint32(condTicketsOff),
		granted: obj.Uint32(condGrantedOff),
		gate:    gateAt(obj, condSeqOff, condSleepersOff),
		nholes:  obj.Uint32(condNHolesOff),
		holes:   (*[condMaxHoles]uint32)(obj.Pointer(condHolesOff)),
		name:    obj.Name,
		seg:     obj.Segment(),
	}
}

// Name returns the condition's name.
func (c *Condition) Name() string { return c.name }

// Locker returns the condition's lock, a *Mutex or an *RLock.
func (c *Condition) Locker() Locker { return c.lock }

// Mutex returns the condition's lock if it is a Mutex, else nil.
func (c *Condition) Mutex() *Mutex { m, _ := c.lock.(*Mutex); return m }

// RLock returns the condition's lock if it is an RLock, else nil.
func (c *Condition) RLock() *RLock { r, _ := c.lock.(*RLock); return r }

// held checks that this process holds the lock, and for a wait that it is
// consistent.
func (c *Condition) held(op string) error {
	m := c.lock.mutex()
	s := atomic.LoadUint64(m.word)
	if err := m.checkWord(s, op); err != nil {
		return err
	}
	if s&mutexHolder != m.self {
		return fmt.Errorf("condition %q: %s: %w", c.name, op, ErrNotOwner)
	}
	if s&mutexInconsistent != 0 && op == "wait" {
		// Unlocking now would make the lock unrecoverable.
		return fmt.Errorf("condition %q: %s: MarkConsistent first: %w", c.name, op, ErrOwnerDead)
	}
	return nil
}

// Wait unlocks the lock, waits for a Notify, and locks again.
//
// A Condition has no Try form: a wait that may not wait would unlock and
// lock again for nothing (a Notify needs the lock, so none can come in
// between). WaitTimeout(0) does that, for symmetry with Python.
func (c *Condition) Wait() error { return c.wait(futex.Block()) }

// WaitContext is Wait that stops waiting for a notification when ctx ends:
// it returns ctx.Err() (wrapped) with the lock held again (re-locking does
// not watch ctx). A notification that arrived meanwhile wins: nil.
func (c *Condition) WaitContext(ctx context.Context) error { return c.wait(futex.WithContext(ctx)) }

// WaitTimeout is Wait that stops waiting after d, returning ErrTimeout
// (wrapped) with the lock held again: Python's wait(timeout) returning False.
func (c *Condition) WaitTimeout(d time.Duration) error { return c.wait(timeoutBound(d)) }

// wait is every Wait form.
func (c *Condition) wait(b futex.Bound) error {
	if err := c.held("wait"); err != nil {
		return err
	}
	// An atomic add, though the lock serializes waiters: a goroutine of
	// this process that waits without holding the lock (the check above is
	// per process) must not get a duplicate ticket.
	t := atomic.AddUint32(c.tickets, 1) - 1
	saved, err := c.lock.releaseAll()
	if err != nil {
		c.withdraw(t) // the lock word is broken; at least return the ticket
		return fmt.Errorf("condition %q: wait: %w", c.name, err)
	}
	werr := c.gate.Await(b, futex.Waiter{Policy: futex.Brief,
		Ready: func() bool { return ticketGranted(t, atomic.LoadUint32(c.granted)) }})
	lerr := c.lock.reacquire(saved)
	if !Acquired(lerr) {
		return fmt.Errorf("condition %q: wait: %w", c.name, lerr)
	}
	if werr != nil {
		if ticketGranted(t, atomic.LoadUint32(c.granted)) {
			werr = nil // notified after all: take the notification
		} else {
			c.withdraw(t)
		}
	}
	switch {
	case werr != nil && lerr != nil:
		return fmt.Errorf("condition %q: wait: %w; re-locking: %w", c.name, werr, lerr)
	case werr != nil:
		return fmt.Errorf("condition %q: wait: %w", c.name, werr)
	case lerr != nil:
		return fmt.Errorf("condition %q: wait: re-locking: %w", c.name, lerr)
	}
	return nil
}

// ticketGranted reports whether granted has passed ticket t (mod 2^32).
func ticketGranted(t, granted uint32) bool { return int32(granted-t) > 0 }

// holeList reads the holes (under the lock), dropping entries outside
// (granted, tickets) that a dead holder may have left.
func (c *Condition) holeList(g, tk uint32) []uint32 {
	n := min(atomic.LoadUint32(c.nholes), condMaxHoles)
	out := make([]uint32, 0, n)
	for i := range n {
		h := atomic.LoadUint32(&c.holes[i])
		if int32(h-g) >= 0 && int32(tk-h) > 0 {
			out = append(out, h)
		}
	}
	return out
}

func (c *Condition) storeHoles(hs []uint32) {
	for i, h := range hs {
		atomic.StoreUint32(&c.holes[i], h)
	}
	atomic.StoreUint32(c.nholes, uint32(len(hs)))
}

// takeHole removes t from hs if it is there.
func takeHole(hs []uint32, t uint32) ([]uint32, bool) {
	for i, h := range hs {
		if h == t {
			hs[i] = hs[len(hs)-1]
			return hs[:len(hs)-1], true
		}
	}
	return hs, false
}

// withdraw takes back ungranted ticket t of a waiter that gave up (under
// the lock).
func (c *Condition) withdraw(t uint32) {
	g, tk := atomic.LoadUint32(c.granted), atomic.LoadUint32(c.tickets)
	hs := c.holeList(g, tk)
	var ok bool
	switch {
	case t == g:
		// The oldest: granting it wakes nobody else. Skip the holes behind it.
		g++
		for g != tk {
			if hs, ok = takeHole(hs, g); !ok {
				break
			}
			g++
		}
		atomic.StoreUint32(c.granted, g)
	case t == tk-1:
		// The newest: hand the number out again.
		tk--
		for tk != g {
			if hs, ok = takeHole(hs, tk-1); !ok {
				break
			}
			tk--
		}
		atomic.StoreUint32(c.tickets, tk)
	case len(hs) < condMaxHoles:
		hs = append(hs, t)
	default:
		// No room to remember it: grant everyone rather than risk that a
		// Notify is spent on this ticket (spurious wake-ups, never a lost one).
		hs = hs[:0]
		atomic.StoreUint32(c.granted, tk)
		c.gate.SignalAll()
	}
	c.storeHoles(hs)
}

// WaitFor waits until pred returns true, calling it with the lock held:
// first before any wait, then after every notification. It returns nil
// once pred holds (Python's wait_for returning True).
func (c *Condition) WaitFor(pred func() bool) error { return c.waitFor(futex.Block(), pred) }

// WaitForContext is WaitFor that gives up when ctx ends, returning
// ctx.Err() (wrapped) unless pred holds by then. The lock is held on return.
func (c *Condition) WaitForContext(ctx context.Context, pred func() bool) error {
	return c.waitFor(futex.WithContext(ctx), pred)
}

// WaitForTimeout is WaitFor that gives up after d, returning ErrTimeout
// (wrapped) unless pred holds by then (Python's wait_for(pred, timeout)).
func (c *Condition) WaitForTimeout(d time.Duration, pred func() bool) error {
	return c.waitFor(timeoutBound(d), pred)
}

// waitFor is every WaitFor form; each wait takes the rest of b.
func (c *Condition) waitFor(b futex.Bound, pred func() bool) error {
	for !pred() {
		if err := b.Err(); err != nil {
			return fmt.Errorf("condition %q: wait for: %w", c.name, err)
		}
		if err := c.wait(b); err != nil {
			// Python's wait_for: after a timeout, the predicate has the last word.
			if !errors.Is(err, ErrOwnerDead) && b.Err() != nil &&
				c.lock.mutex().HeldBySelf() && pred() {
				return nil
			}
			return err
		}
	}
	return nil
}

// Notify wakes up to n waiters, those that have waited longest. It must be
// called with the lock held. n <= 0 wakes nobody.
func (c *Condition) Notify(n int) error {
	if err := c.held("notify"); err != nil {
		return err
	}
	if n <= 0 {
		return nil
	}
	g, tk := atomic.LoadUint32(c.granted), atomic.LoadUint32(c.tickets)
	hs := c.holeList(g, tk)
	granted := 0
	var hole bool
	for g != tk && (granted < n || len(hs) > 0) {
		if hs, hole = takeHole(hs, g); !hole {
			if granted == n {
				break
			}
			granted++
		}
		g++
	}
	c.storeHoles(hs)
	atomic.StoreUint32(c.granted, g)
	if granted > 0 {
		c.gate.SignalAll()
	}
	return nil
}

// NotifyAll wakes every waiter. It must be called with the lock held.
func (c *Condition) NotifyAll() error {
	if err := c.held("notify all"); err != nil {
		return err
	}
	tk := atomic.LoadUint32(c.tickets)
	c.storeHoles(nil)
	if atomic.SwapUint32(c.granted, tk) != tk {
		c.gate.SignalAll()
	}
	return nil
}

// GobEncode encodes a handle on c (and its lock) for a child process.
func (c *Condition) GobEncode() ([]byte, error) { return shm.EncodeRef(c.seg, c.name, 0) }

// GobDecode re-attaches a handle encoded by GobEncode.
func (c *Condition) GobDecode(b []byte) error {
	return decode(&c.Attachment, b, shm.KindCondition, func(obj shm.Object) error {
		nc, err := openCondition(obj)
		if err == nil {
			*c = *nc
		}
		return err
	})
}

// ConditionState is a snapshot of a condition.
type ConditionState struct {
	Waiting  uint32 // tickets handed out and neither granted nor withdrawn
	Sleepers uint32 // processes counted asleep; may count killed ones until a repair
	Repairs  uint32 // how many times wakers repaired the count (mod 2^16)
	Lock     MutexState
}

// InspectCondition reads a condition object, and its lock's word, without
// disturbing them.
func InspectCondition(obj shm.Object) (ConditionState, error) {
	if obj.Kind != shm.KindCondition || obj.Size < condSize {
		return ConditionState{}, fmt.Errorf("semaphore: inspect %q: %w: it is a %s", obj.Name, shm.ErrKindMismatch, obj.Kind)
	}
	c, err := openCondition(obj)
	if err != nil {
		return ConditionState{}, err
	}
	tk, g := atomic.LoadUint32(c.tickets), atomic.LoadUint32(c.granted)
	waiting := tk - g
	if int32(waiting) < 0 {
		waiting = 0
	}
	waiting -= min(waiting, min(atomic.LoadUint32(c.nholes), condMaxHoles))
	m := c.lock.mutex()
	st := ConditionState{Waiting: waiting, Lock: mutexState(m.seg, atomic.LoadUint64(m.word))}
	st.Sleepers, st.Repairs = sleepersState(obj.Uint32(condSleepersOff))
	return st, nil
}
