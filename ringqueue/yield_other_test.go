//go:build !linux

package ringqueue_test

import "runtime"

func schedYield() { runtime.Gosched() }
