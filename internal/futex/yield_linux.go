package futex

import "syscall"

// schedYield gives the CPU to another runnable thread for a moment. Raw:
// sched_yield returns at once, the Go scheduler need not know.
func schedYield() { _, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
