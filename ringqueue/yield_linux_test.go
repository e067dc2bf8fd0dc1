package ringqueue_test

import "syscall"

// schedYield is the package's own (yield_linux.go), for the external tests.
func schedYield() { _, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
