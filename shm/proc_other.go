//go:build !linux

package shm

import (
	"errors"
	"fmt"
)

// Process identities come from /proc/pid/stat, which only Linux has. No
// segment can be made or attached off Linux (see open_other.go), so these
// only keep the portable files compiling.

// processAlive never declares a process dead when it cannot tell.
func processAlive(pid int, start uint64) bool { return true }

func processStart(pid int) (start uint64, state byte, err error) {
	return 0, 0, fmt.Errorf("shm: process start of %d: %w", pid, errors.ErrUnsupported)
}

func pidNamespace() uint64 { return 0 }
