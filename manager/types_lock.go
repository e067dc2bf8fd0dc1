package manager

import (
	"context"
	"fmt"
	"sync"
)

// lockObject is a Mutex (Python's Lock) or, reentrant, an RLock on the
// server.
//
// Ownership. A holder is an owner: the connection the call came on and a
// token the proxy chose at random when it was made or decoded. So two
// proxies in one process are two owners, and an RLock re-entered through
// the same proxy counts up. A Mutex, like Python's Lock and sync.Mutex, may
// be unlocked by anyone; an RLock only by its owner (ErrNotOwner).
//
// Crash recovery. When the holder's connection ends (the client closed it,
// or its process died and the kernel closed the socket), the lock is
// released and marked: the next locker gets it together with ErrOwnerDead,
// once, as a process-shared lock in package semaphore would report a dead
// holder. Nothing else is required of it (no MarkConsistent): the server,
// not shared memory, holds the state, so the lock itself is never torn.
type lockObject struct {
	reentrant bool

	mu        sync.Mutex
	held      bool
	holder    owner
	count     int  // RLock recursion depth
	ownerDead bool // released because its holder's connection ended
	changed   notifier
}

type owner struct{ conn, token uint64 }

func newMutexObject(_ *Server, args [][]byte) (object, error) {
	if err := argCount(args, 0); err != nil {
		return nil, err
	}
	return &lockObject{}, nil
}

func newRLockObject(_ *Server, args [][]byte) (object, error) {
	if err := argCount(args, 0); err != nil {
		return nil, err
	}
	return &lockObject{reentrant: true}, nil
}

func tokenArg(args [][]byte, i int) (uint64, error) {
	if len(args) <= i {
		return 0, fmt.Errorf("no owner token: %w", ErrBadArgs)
	}
	return getUint(args[i])
}

func (l *lockObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	switch method {
	case "Lock", "TryLock":
		tk, err := tokenArg(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, l.acquire(ctx, c, owner{c.conn, tk}, method == "Lock")
	case "Unlock":
		tk, err := tokenArg(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, l.release(owner{c.conn, tk})
	case "Locked":
		l.mu.Lock()
		defer l.mu.Unlock()
		return [][]byte{boolArg(l.held)}, nil
	}
	return nil, fmt.Errorf("lock: %q: %w", method, ErrNoMethod)
}

// acquire takes the lock for o, waiting if block. A free lock is taken
// even if ctx is already done (as x/sync/semaphore does), but never for a
// connection that has ended: nobody would release it.
func (l *lockObject) acquire(ctx context.Context, c caller, o owner, block bool) error {
	for {
		l.mu.Lock()
		if c.gone() {
			l.mu.Unlock()
			return ErrClosed
		}
		if l.reentrant && l.held && l.holder == o {
			l.count++
			l.mu.Unlock()
			return nil
		}
		if !l.held {
			l.held, l.holder, l.count = true, o, 1
			dead := l.ownerDead
			l.ownerDead = false
			l.mu.Unlock()
			if dead {
				return ErrOwnerDead
			}
			return nil
		}
		if !block {
			l.mu.Unlock()
			return ErrWouldBlock
		}
		ch := l.changed.wait()
		l.mu.Unlock()
		if err := sleep(ctx, ch); err != nil {
			return err
		}
	}
}

func (l *lockObject) release(o owner) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return ErrUnlocked
	}
	if l.reentrant {
		if l.holder != o {
			return ErrNotOwner
		}
		if l.count--; l.count > 0 {
			return nil
		}
	}
	l.held, l.count = false, 0
	l.changed.broadcast()
	return nil
}

func (l *lockObject) heldBy(o owner) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held && l.holder == o
}

// releaseAll lets go of the lock entirely for a Condition's Wait and
// returns the recursion depth to restore.
func (l *lockObject) releaseAll(o owner) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held || l.holder != o {
		return 0, ErrNotOwner
	}
	n := l.count
	l.held, l.count = false, 0
	l.changed.broadcast()
	return n, nil
}

// restore takes the lock back after a Condition's Wait, at depth n.
func (l *lockObject) restore(ctx context.Context, c caller, o owner, n int) error {
	err := l.acquire(ctx, c, o, true)
	if Acquired(err) {
		l.mu.Lock()
		l.count = n
		l.mu.Unlock()
	}
	return err
}

func (l *lockObject) connClosed(conn uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held && l.holder.conn == conn {
		l.held, l.count, l.ownerDead = false, 0, true
		l.changed.broadcast()
	}
}
