package futex

import (
	"context"
	"math"
	"time"

	"github.com/multiproc-go/multiproc/internal/errs"
)

// A Bound says how long a blocking call may wait: not at all (NoWait),
// until it succeeds (Block), until a deadline (Within), or until a context
// ends (WithContext; the context's own deadline bounds it too). Every
// blocking call of the module has one internal entry point that takes a
// Bound; its public forms are one-line shells over it:
//
//	X()             x(futex.Block())
//	TryX()          x(futex.NoWait())
//	XContext(ctx)   x(futex.WithContext(ctx))
//	XTimeout(d)     x(futex.Within(d))
//
// The zero Bound is Block.
//
// A Bound is 32 bytes (a deadline as an int64 on the monotonic clock, not
// a 24-byte time.Time), the most the compiler keeps in registers: a
// 48-byte Bound lived on the stack, and every inlined shell zeroed it
// before its fast path (measured: Semaphore.Acquire 13.6 -> 15 ns).
type Bound struct {
	ctx      context.Context // nil: none
	deadline int64           // nanoseconds since boundEpoch (monotonic); 0: none
	try      bool
}

// boundEpoch is the origin of Bound deadlines; time.Since reads it on the
// monotonic clock, so a wall-clock step moves no deadline.
var boundEpoch = time.Now()

func monoNow() int64 { return int64(time.Since(boundEpoch)) }

// NoWait is the bound of a Try form: one attempt, no wait.
//
// NoWait and Block are functions, not variables: a variable is memory
// that every shell must copy before its fast path, which
// measured 0.5-1 ns on an uncontended Mutex.Lock; a literal costs nothing
// until the slow path needs it.
func NoWait() Bound { return Bound{try: true} }

// Block waits until the call succeeds.
func Block() Bound { return Bound{} }

// Within bounds a wait by d from now. A negative d waits without limit,
// as Python's acquire(timeout=-1) does; d == 0 makes one attempt and then
// reports a timeout.
func Within(d time.Duration) Bound {
	if d < 0 {
		return Bound{}
	}
	now := monoNow()
	dl := int64(math.MaxInt64)
	if int64(d) < dl-now {
		dl = now + int64(d)
	}
	return Bound{deadline: max(dl, 1)} // 0 would read as no deadline
}

// WithContext bounds a wait by ctx: by its cancellation and its deadline.
func WithContext(ctx context.Context) Bound { return Bound{ctx: ctx} }

// Try reports whether the bound allows no wait at all.
func (b Bound) Try() bool { return b.try }

// Context returns the bound's context, or context.Background() when it has none.
func (b Bound) Context() context.Context {
	if b.ctx == nil {
		return context.Background()
	}
	return b.ctx
}

// Deadline returns the bound's own deadline (not its context's).
func (b Bound) Deadline() (time.Time, bool) {
	if b.deadline == 0 {
		return time.Time{}, false
	}
	return boundEpoch.Add(time.Duration(b.deadline)), true
}

// Err reports whether the bound has run out: the context's error when it
// ended, errs.ErrTimeout (which matches context.DeadlineExceeded) when the
// deadline passed, and nil otherwise. A NoWait bound never runs out: its
// caller decides what its single failed attempt means.
func (b Bound) Err() error {
	if b.ctx != nil && b.ctx.Done() != nil {
		if err := b.ctx.Err(); err != nil {
			return err
		}
	}
	if b.deadline != 0 && monoNow() >= b.deadline {
		return errs.ErrTimeout
	}
	return nil
}

// Sleep returns how long the next sleep may last: at most max (max < 0:
// no cap but the bound's), and not past the deadline; a result below zero
// means "until woken". It returns Err() when the bound has run out. A
// context's end is not in the duration: the futex waits in this package
// wake on it. A NoWait bound allows no sleep at all: Sleep returns
// ErrWouldBlock, so that a loop which forgot to handle NoWait first fails
// at once instead of waiting forever.
func (b Bound) Sleep(max time.Duration) (time.Duration, error) {
	if b.try {
		return 0, ErrWouldBlock
	}
	if err := b.Err(); err != nil {
		return 0, err
	}
	if b.deadline == 0 {
		return max, nil
	}
	left := time.Duration(b.deadline - monoNow())
	if left <= 0 {
		return 0, errs.ErrTimeout
	}
	if max < 0 {
		return left, nil
	}
	return min(left, max), nil
}
