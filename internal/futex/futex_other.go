//go:build !linux

package futex

import (
	"errors"
	"fmt"
	"time"
)

// Other Unixes have no futex that two processes can share by file and
// offset (macOS's __ulock is private to a process unless undocumented flags
// are used; FreeBSD's _umtx_op shared mode differs): rather than emulate one
// badly, waiting and waking report that they are unsupported, so the module
// builds everywhere and fails clearly where it would run.

// Wait returns errors.ErrUnsupported off Linux.
func Wait(addr *uint32, val uint32, timeout time.Duration) error {
	return fmt.Errorf("futex: wait: %w (shared futexes need Linux)", errors.ErrUnsupported)
}

// Wake returns errors.ErrUnsupported off Linux.
func Wake(addr *uint32, n int) (int, error) {
	return 0, fmt.Errorf("futex: wake: %w (shared futexes need Linux)", errors.ErrUnsupported)
}

// WakeAll returns errors.ErrUnsupported off Linux.
func WakeAll(addr *uint32) (int, error) { return Wake(addr, 0) }
