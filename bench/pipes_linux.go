package bench

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// blockingPipe is os.Pipe with both ends left in blocking mode: reads and
// writes are plain system calls, as a C program or Python's
// multiprocessing.Pipe(duplex=False) does them, and the descriptors can be
// passed to a child without changing their mode under the parent's feet.
// It returns the read end, then the write end.
func blockingPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("bench: pipe2: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "pipe-r"), os.NewFile(uintptr(fds[1]), "pipe-w"), nil
}

// blockingSocketpair is a unix SOCK_STREAM socket pair in blocking mode,
// what Python's multiprocessing.Pipe() (duplex) uses.
func blockingSocketpair() (a, b *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sock-a"), os.NewFile(uintptr(fds[1]), "sock-b"), nil
}
