package procs

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// closeUnnamed closes the descriptors that reached this child without
// being named: Start passes descriptors 0 to last (standard streams,
// argument, report, segments, files), but exec also keeps every descriptor
// the parent held without close-on-exec (a raw syscall.Open, what the
// shell passed in). Python's spawn closes those; so do we, so that a child
// holds exactly what its Start named.
//
// Everything the Go runtime and os open is close-on-exec, so a descriptor
// above last without the flag can only have come from the parent: this
// never closes the runtime's own (its poller, the directory read here).
func closeUnnamed(last int) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return // no /proc: nothing to learn the numbers from; leaking is all that is left
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= last {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil && flags&unix.FD_CLOEXEC == 0 {
			_ = unix.Close(fd)
		}
	}
}
