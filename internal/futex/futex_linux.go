package futex

import (
	"math"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Operations on a word that other processes map: the private flag would key
// the futex by this process's address space and never meet another process,
// so it is deliberately absent.
// The values are linux/futex.h's, which x/sys/unix does not export.
const (
	opWait = 0 // FUTEX_WAIT, shared, relative timeout
	opWake = 1 // FUTEX_WAKE, shared
)

// Wait sleeps while *addr == val, for at most timeout (Forever: no limit).
// See the package doc for what its results mean.
func Wait(addr *uint32, val uint32, timeout time.Duration) error {
	var tsp *unix.Timespec
	if timeout >= 0 {
		ts := unix.NsecToTimespec(int64(timeout))
		tsp = &ts
	}
	// syscall.Syscall6 (not RawSyscall) tells the Go scheduler that this
	// thread blocks, so other goroutines keep running meanwhile.
	_, _, errno := syscall.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		opWait, uintptr(val), uintptr(unsafe.Pointer(tsp)), 0, 0)
	switch errno {
	case 0, unix.EAGAIN, unix.EINTR:
		return nil
	case unix.ETIMEDOUT:
		return ErrTimeout
	default:
		return errno
	}
}

// Wake wakes at most n sleepers on addr (n <= 0 wakes nobody) and returns
// how many it woke.
func Wake(addr *uint32, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	if n > math.MaxInt32 {
		n = math.MaxInt32
	}
	r, _, errno := syscall.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		opWake, uintptr(n), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// WakeAll wakes every sleeper on addr.
func WakeAll(addr *uint32) (int, error) { return Wake(addr, math.MaxInt32) }
