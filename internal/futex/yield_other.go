//go:build !linux

package futex

import "runtime"

// schedYield off Linux only keeps the package compiling: no segment, so no
// spin, can exist there (shm reports errors.ErrUnsupported).
func schedYield() { runtime.Gosched() }
