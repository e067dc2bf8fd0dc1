package procs

import "golang.org/x/sys/unix"

// pipeFds makes the two descriptors of a Pipe, close-on-exec from the
// start so no child started meanwhile inherits them: a socket pair when
// duplex, else a pipe (read end first).
func pipeFds(duplex bool) (fds [2]int, err error) {
	if duplex {
		return unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	}
	err = unix.Pipe2(fds[:], unix.O_CLOEXEC)
	return fds, err
}

// recvmsgFlags makes descriptors that arrive with a message close-on-exec
// as they arrive, for the same reason.
const recvmsgFlags = unix.MSG_CMSG_CLOEXEC
