package manager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// Every blocking proxy call has one internal entry point that takes a
// futex.Bound, and its public forms are one-line shells over it (X:
// Block, TryX: NoWait, XContext: WithContext, XTimeout: Within). The
// wait itself happens in the server (await in wait.go); the client only
// says how long it may last:
//
//   - NoWait calls the server's Try method, which answers at once.
//   - A deadline that has already passed (XTimeout(0)) also calls the Try
//     method: one attempt, whose failure then wraps ErrTimeout as well as
//     the Try method's sentinel (ErrWouldBlock, ErrEmpty, ErrFull).
//   - Otherwise the call waits under a context that ends with the bound:
//     the bound's context, cut at its deadline with ErrTimeout as the
//     cause. When it ends the client asks the server to abandon the call
//     (see the package doc's Cancellation).
//
// Operations without a Try method on the server (Condition.Wait,
// Barrier.Wait) have no Try form; see their doc comments.

// boundContext returns the context a server call waits under for b.
func boundContext(b futex.Bound) (context.Context, context.CancelFunc) {
	ctx := b.Context()
	if dl, ok := b.Deadline(); ok {
		return context.WithDeadlineCause(ctx, dl, ErrTimeout)
	}
	return ctx, func() {}
}

// expired reports whether b's deadline has already passed.
func expired(b futex.Bound) bool {
	dl, ok := b.Deadline()
	return ok && !time.Now().Before(dl)
}

// waitCall runs a blocking server call within b: try is the server's
// method that never waits ("" when there is none), wait the one that does.
func (r *ref) waitCall(b futex.Bound, try, wait string, args ...[]byte) ([][]byte, error) {
	if try != "" && (b.Try() || expired(b)) {
		res, err := r.call(bg, try, args...)
		if err != nil && !b.Try() && wouldBlock(err) {
			err = fmt.Errorf("%w (%w)", err, ErrTimeout)
		}
		return res, err
	}
	ctx, cancel := boundContext(b)
	defer cancel()
	return r.call(ctx, wait, args...)
}

// waitOne is waitCall for a call that returns exactly one result.
func (r *ref) waitOne(b futex.Bound, try, wait string, args ...[]byte) ([]byte, error) {
	res, err := r.waitCall(b, try, wait, args...)
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("manager: %v: %d results: %w", r.site(wait), len(res), ErrProtocol)
	}
	return res[0], nil
}

// wouldBlock reports whether err is a Try method's "not now".
func wouldBlock(err error) bool {
	return errors.Is(err, ErrWouldBlock) || errors.Is(err, ErrEmpty) || errors.Is(err, ErrFull)
}
