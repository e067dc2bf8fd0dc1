//go:build !linux

package semaphore

import "runtime"

// schedYield off Linux only keeps the package compiling: no segment, so no
// spin, can exist there (shm reports errors.ErrUnsupported).
func schedYield() { runtime.Gosched() }
