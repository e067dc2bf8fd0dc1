package manager

import (
	"context"
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

func newMutexObject(_ *Server, _ [][]byte) (object, error) {
	return &lockObject{}, nil
}

func newRLockObject(_ *Server, _ [][]byte) (object, error) {
	return &lockObject{reentrant: true}, nil
}

// ownerArg reads the owner token a lock method's first argument carries.
func ownerArg(c caller, args [][]byte) (owner, error) {
	tk, err := getUint(args[0])
	return owner{c.conn, tk}, err
}

// acquireMethod is Lock (block) or TryLock.
func acquireMethod(block bool) method[*lockObject] {
	return method[*lockObject]{1, func(l *lockObject, ctx context.Context, c caller, args [][]byte) ([][]byte, error) {
		o, err := ownerArg(c, args)
		if err != nil {
			return nil, err
		}
		return nil, l.acquire(ctx, c, o, block)
	}}
}

var lockMethods = methods[*lockObject]{
	"Lock":    acquireMethod(true),
	"TryLock": acquireMethod(false),
	"Unlock": {1, func(l *lockObject, _ context.Context, c caller, args [][]byte) ([][]byte, error) {
		o, err := ownerArg(c, args)
		if err != nil {
			return nil, err
		}
		return nil, l.release(o)
	}},
	"Locked": {0, func(l *lockObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return [][]byte{boolArg(l.held)}, nil
	}},
}

func (l *lockObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	return lockMethods.call(l, "lock", ctx, c, method, args)
}

// acquire takes the lock for o, waiting if block. A free lock is taken
// even if ctx is already done (as x/sync/semaphore does), but never for a
// connection that has ended: nobody would release it.
func (l *lockObject) acquire(ctx context.Context, c caller, o owner, block bool) error {
	return await(ctx, &l.mu, &l.changed, func() (bool, error) {
		switch {
		case c.gone():
			return true, ErrClosed
		case l.reentrant && l.held && l.holder == o:
			l.count++
			return true, nil
		case !l.held:
			l.held, l.holder, l.count = true, o, 1
			if l.ownerDead {
				l.ownerDead = false
				return true, ErrOwnerDead
			}
			return true, nil
		case !block:
			return true, ErrWouldBlock
		}
		return false, nil
	})
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
