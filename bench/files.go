package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/multiproc-go/multiproc/shm"
	"golang.org/x/sys/unix"
)

// passedFile carries an open descriptor to a child inside a procs.Start
// argument: GobEncode registers it with shm.ExportFile (procs passes the
// export's files to the child), GobDecode takes it back with
// shm.InheritedFile. A nil F crosses as nil.
type passedFile struct{ F *os.File }

var errBadPassedFile = errors.New("bench: malformed passed file")

// GobEncode writes the export index of F (or nothing for a nil F).
func (p passedFile) GobEncode() ([]byte, error) {
	if p.F == nil {
		return []byte{}, nil
	}
	i, err := shm.ExportFile(p.F)
	if err != nil {
		return nil, fmt.Errorf("bench: passing %s: %w", p.F.Name(), err)
	}
	return binary.LittleEndian.AppendUint32(nil, uint32(i)), nil
}

// GobDecode takes the descriptor GobEncode exported.
func (p *passedFile) GobDecode(b []byte) error {
	switch len(b) {
	case 0:
		p.F = nil
		return nil
	case 4:
		f, err := shm.InheritedFile(int(binary.LittleEndian.Uint32(b)))
		if err != nil {
			return fmt.Errorf("bench: taking a passed file: %w", err)
		}
		p.F = f
		return nil
	}
	return errBadPassedFile
}

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
