package futex

import (
	"errors"
	"time"
)

// ErrTimeout is returned by Wait when the timeout passed before a wake.
var ErrTimeout = errors.New("futex: timed out")

// Forever as a timeout makes Wait sleep until woken.
const Forever time.Duration = -1
