package manager

import (
	"context"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// A Mutex is a proxy for a lock that lives in the server: Python's
// manager.Lock(). Anybody may unlock it, as with sync.Mutex and Python's
// Lock. If the connection of the client holding it ends — its process
// was killed — the lock is released and the next Lock returns
// ErrOwnerDead holding it (see Acquired).
//
// A lock call's owner is the proxy value: two proxies of one lock (made
// separately, or decoded in different processes) are two owners. Safe for
// concurrent use; crosses to a child process as an argument.
type Mutex struct{ lockProxy }

// An RLock is a reentrant Mutex: Python's manager.RLock(). Its owner may
// lock it again, and must unlock it as many times; only its owner may
// unlock it (ErrNotOwner).
type RLock struct{ lockProxy }

// NewMutex creates an unlocked Mutex on the server (or, Named, finds one).
func NewMutex(m *Manager, opts ...ObjectOption) (*Mutex, error) {
	r, err := m.create(typeMutex, nil, opts)
	if err != nil {
		return nil, err
	}
	return &Mutex{lockProxy{r}}, nil
}

// NewRLock creates an unlocked RLock on the server (or, Named, finds one).
func NewRLock(m *Manager, opts ...ObjectOption) (*RLock, error) {
	r, err := m.create(typeRLock, nil, opts)
	if err != nil {
		return nil, err
	}
	return &RLock{lockProxy{r}}, nil
}

// GobDecode attaches to the Mutex a GobEncode packed.
func (l *Mutex) GobDecode(b []byte) error { return l.decode(b, typeMutex) }

// GobDecode attaches to the RLock a GobEncode packed.
func (l *RLock) GobDecode(b []byte) error { return l.decode(b, typeRLock) }

// A Lockable is a lock a Condition can be built on: a *Mutex or an *RLock.
type Lockable interface{ lockRef() *ref }

// lockProxy holds the methods Mutex, RLock and Condition share.
type lockProxy struct{ r *ref }

func (l *lockProxy) lockRef() *ref {
	if l == nil {
		return nil
	}
	return l.r
}

// Lock locks, waiting as long as it takes (Python's acquire()). It
// returns nil, or ErrOwnerDead (wrapped) when it took the lock from a
// holder whose connection ended; either way the caller holds the lock.
func (l *lockProxy) Lock() error { return l.lock(futex.Block()) }

// TryLock locks if it can without waiting (Python's
// acquire(blocking=False)), or fails with ErrWouldBlock.
func (l *lockProxy) TryLock() error { return l.lock(futex.NoWait()) }

// LockContext is Lock that gives up when ctx ends, returning its cause
// (wrapped) and not holding the lock.
func (l *lockProxy) LockContext(ctx context.Context) error { return l.lock(futex.WithContext(ctx)) }

// LockTimeout is Lock that gives up after d with ErrTimeout (Python's
// acquire(timeout=d) returning False); d == 0 tries once (the error then
// wraps ErrWouldBlock too), a negative d waits without limit.
func (l *lockProxy) LockTimeout(d time.Duration) error { return l.lock(futex.Within(d)) }

func (l *lockProxy) lock(b futex.Bound) error {
	_, err := l.r.waitCall(b, "TryLock", "Lock", uintArg(l.r.token))
	return err
}

// Unlock unlocks; ErrUnlocked if nobody holds the lock, ErrNotOwner for an
// RLock held by another owner.
func (l *lockProxy) Unlock() error {
	_, err := l.r.do("Unlock", uintArg(l.r.token))
	return err
}

// Locked reports whether anybody holds the lock.
func (l *lockProxy) Locked() (bool, error) { return l.r.bool("Locked") }

// Detach releases this proxy's reference.
func (l *lockProxy) Detach() error { return l.r.close() }

// GobEncode packs the proxy to cross to another process.
func (l *lockProxy) GobEncode() ([]byte, error) { return l.r.encode() }

func (l *lockProxy) decode(b []byte, typ string) error {
	r, err := decodeRef(b, typ, nil)
	if err != nil {
		return err
	}
	l.r = r
	return nil
}

// A Condition is a proxy for a condition variable in the server: Python's
// manager.Condition(). Lock it (its own Lock methods, or — in the process
// that made it — the Mutex or RLock it was made on), then Wait, which lets
// go of the lock until a Notify and takes it back before returning.
type Condition struct{ lockProxy }

// NewCondition creates a Condition on lock (a *Mutex or *RLock of the same
// manager), or on a fresh RLock of its own when lock is nil (Python's
// default). Made on a lock proxy, the Condition shares that proxy's owner:
// locking through either and waiting through the Condition agree.
func NewCondition(m *Manager, lock Lockable, opts ...ObjectOption) (*Condition, error) {
	var lr *ref
	if lock != nil {
		lr = lock.lockRef()
	}
	var id uint64
	if lr != nil {
		id = lr.id
	}
	r, err := m.create(typeCondition, [][]byte{uintArg(id)}, opts)
	if err != nil {
		return nil, err
	}
	if lr != nil {
		r.token = lr.token
	}
	return &Condition{lockProxy{r}}, nil
}

// Wait lets go of the lock, waits for a Notify, and takes the lock back
// (Python's wait()). The caller must hold the lock (ErrNotOwner). There
// is no TryWait: a wait that may not wait could never see a Notify.
func (c *Condition) Wait() error { return c.wait(futex.Block()) }

// WaitContext is Wait that stops waiting for a Notify when ctx ends. It
// still takes the lock back before it returns ctx's cause (wrapped), as
// Python's wait(timeout) does.
func (c *Condition) WaitContext(ctx context.Context) error { return c.wait(futex.WithContext(ctx)) }

// WaitTimeout is Wait that stops waiting after d and returns ErrTimeout,
// holding the lock again (Python's wait(timeout) returning False).
func (c *Condition) WaitTimeout(d time.Duration) error { return c.wait(futex.Within(d)) }

func (c *Condition) wait(b futex.Bound) error {
	_, err := c.r.waitCall(b, "", "Wait", uintArg(c.r.token))
	return err
}

// WaitFor waits until pred, checked with the lock held, is true (Python's
// wait_for). The caller must hold the lock.
func (c *Condition) WaitFor(pred func() bool) error { return c.waitFor(futex.Block(), pred) }

// WaitForContext is WaitFor that gives up when ctx ends, holding the lock
// again, and returns ctx's cause (wrapped).
func (c *Condition) WaitForContext(ctx context.Context, pred func() bool) error {
	return c.waitFor(futex.WithContext(ctx), pred)
}

// WaitForTimeout is WaitFor bounded by d for the whole wait, not for each
// Notify (Python's wait_for(pred, timeout)); ErrTimeout when d passes
// with pred still false.
func (c *Condition) WaitForTimeout(d time.Duration, pred func() bool) error {
	return c.waitFor(futex.Within(d), pred)
}

func (c *Condition) waitFor(b futex.Bound, pred func() bool) error {
	for !pred() {
		if err := c.wait(b); err != nil {
			return err
		}
	}
	return nil
}

// Notify wakes up to n waiters, oldest first. The caller must hold the
// lock.
func (c *Condition) Notify(n int) error {
	_, err := c.r.do("Notify", uintArg(c.r.token), intArg(int64(n)))
	return err
}

// NotifyAll wakes every waiter. The caller must hold the lock.
func (c *Condition) NotifyAll() error {
	_, err := c.r.do("NotifyAll", uintArg(c.r.token))
	return err
}

// GobDecode attaches to the Condition a GobEncode packed.
func (c *Condition) GobDecode(b []byte) error { return c.decode(b, typeCondition) }
