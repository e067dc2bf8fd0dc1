// Package errs holds the sentinels that packages which do not import one
// another must share: one value per meaning, so errors.Is(err,
// ringqueue.ErrTimeout) and errors.Is(err, procs.ErrTimeout) test the same
// thing. It sits below every other package (it imports only the standard
// library), so any package can re-export its values without an import cycle.
// Each exporting package declares `var ErrX = errs.ErrX`; users never name
// this package.
package errs

import (
	"context"
	"errors"
)

// ErrTimeout is returned (wrapped) by every Timeout form when the time
// passed first. It matches context.DeadlineExceeded under errors.Is, so
// code that handles a context's deadline handles a timeout too, and it has
// a Timeout method as net.Error does.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string        { return "timed out" }
func (timeoutError) Timeout() bool        { return true }
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// ErrInvalid: an argument or option is out of range.
var ErrInvalid = errors.New("invalid argument")
