package shm

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Inherited descriptors other than segments.
//
// Some shared things are not objects in a segment but descriptors of their
// own: the socket behind a pipe connection, say. They cross to a child the
// way segments do, with no special case in the process layer:
//
//   - while Export runs its encode function, a type's GobEncode calls
//     ExportFile(f) and writes the returned index into its bytes;
//   - Export returns the recorded files in index order; the process
//     layer passes them to the child after the segments;
//   - the child, before decoding anything, hands them to InheritFiles; the
//     type's GobDecode takes its descriptor back with InheritedFile(index).
//
// Indexes are positions in one export's list: they mean nothing outside
// the export that produced them, so ExportFile outside Export is an
// error (ErrNotExporting) rather than bytes that would name the wrong
// descriptor in the receiver.

// ErrNotExporting: ExportFile was called outside Export (on this
// goroutine), so there is no process to pass the descriptor to: encoding
// a connection into a file, a queue or a pool task's result.
var ErrNotExporting = errors.New("shm: descriptor encoded outside an export: a connection crosses to another process " +
	"only in a procs.Start argument, a Conn.Send on a duplex pipe or a pool task's argument, which pass its descriptor along")

// An export is the state of one Export: what the handles encoded by its
// encode function named.
type export struct {
	seen  map[*mapping]bool // segments named by handles encoded meanwhile
	files []*os.File        // duplicates, in index order, owned by the export
	index map[*os.File]int  // the same file encoded twice gets one index
}

// exports binds each running Export to the goroutine that runs it.
//
// A GobEncode method has no argument through which an Export could reach
// it: the one thing that ties an encoding to its Export is the goroutine
// running both (gob calls GobEncode on the goroutine that called Encode).
// So handles encoded on other goroutines meanwhile, for an unrelated Start
// or for a file, join no export: their segments and descriptors do not
// reach the wrong child, and their bytes carry no index that means nothing
// to their reader. Exports on different goroutines run concurrently.
var exports goScopes[export]

// goid returns the calling goroutine's id, which the runtime prints first
// in a stack trace ("goroutine 18 [running]:"); it exports it nowhere else.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, _ = bytes.CutPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic("shm: cannot read the goroutine id from a stack trace: " + err.Error())
	}
	return id
}

// ExportFile records f for the Export running on this goroutine and
// returns its index in the list of files that Export will return. It
// records a duplicate of the descriptor, so the caller may close f at any
// time. The child sees the same open file description: offsets, and flags
// such as O_NONBLOCK, are shared (os/exec puts a passed descriptor in
// blocking mode, so pass descriptors that are meant to block).
func ExportFile(f *os.File) (int, error) {
	e := exports.current()
	if e == nil {
		return 0, ErrNotExporting
	}
	// e is this goroutine's alone: no lock needed to fill it.
	if i, ok := e.index[f]; ok {
		return i, nil
	}
	dup, err := dupFile(f)
	if err != nil {
		return 0, fmt.Errorf("shm: export %s: %w", f.Name(), err)
	}
	i := len(e.files)
	e.files = append(e.files, dup)
	e.index[f] = i
	return i, nil
}

// dupFile duplicates f's descriptor (close-on-exec) without touching its
// blocking mode, which f.Fd() would.
func dupFile(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	return os.NewFile(uintptr(nfd), f.Name()), nil
}

// Export runs encode and returns what the handles it encoded need in the
// process that will decode the bytes: a new handle on every segment they
// name, and the descriptors that ExportFile recorded, in index order. The
// caller passes the segments' and files' descriptors to the child (files
// after segments) and then closes both.
//
// Only handles encoded on the calling goroutine while encode runs belong
// to this export (see exports), so encode must not hand its encoding to
// another goroutine. Exports on different goroutines do not wait for each
// other; an Export inside encode collects for itself until it returns.
func Export(encode func() error) ([]*Segment, []*os.File, error) {
	e := &export{seen: map[*mapping]bool{}, index: map[*os.File]int{}}
	ok := false
	defer func() { // on an error or a panic in encode: the duplicates are ours to close
		if !ok {
			for _, f := range e.files {
				_ = f.Close()
			}
		}
	}()
	if err := exports.run(e, encode); err != nil {
		return nil, nil, err
	}
	ok = true
	registry.mu.Lock()
	defer registry.mu.Unlock()
	segs := make([]*Segment, 0, len(e.seen))
	for m := range e.seen {
		if m.refs > 0 {
			m.refs++
			segs = append(segs, &Segment{m: m})
		}
	}
	return segs, e.files, nil
}

// inherited holds the descriptors this process was started with (see
// InheritFiles); Import binds others to one decoding.
var inherited struct {
	mu sync.Mutex
	fileSet
}

// A fileSet is descriptors received for one decoding, by export index.
type fileSet struct {
	files []*os.File
	taken []bool
}

// InheritFiles records the n descriptors first, first+1, ... that this
// process was given by its parent's Export, in index order, and makes
// them close-on-exec so they do not leak further. It takes ownership of
// them. The process layer calls it once, before decoding its argument.
func InheritFiles(first uintptr, n int) {
	inherited.mu.Lock()
	defer inherited.mu.Unlock()
	for i := range n {
		fd := int(first) + i
		unix.CloseOnExec(fd)
		inherited.files = append(inherited.files, os.NewFile(uintptr(fd), fmt.Sprintf("inherited-%d", i)))
		inherited.taken = append(inherited.taken, false)
	}
}

// InheritedFile returns the descriptor that the sender exported under
// index: inside Import, one of the files Import was given; elsewhere, one
// this process was started with (InheritFiles). The first call for an
// index hands over the descriptor itself (so closing it closes the only
// copy); a later call for the same index — the same file encoded twice in
// one message — gets a duplicate, or an error once the first taker has
// closed it. The caller owns what it gets.
func InheritedFile(index int) (*os.File, error) {
	if set := currentImport(); set != nil {
		return set.take(index) // this goroutine's alone
	}
	inherited.mu.Lock()
	defer inherited.mu.Unlock()
	return inherited.take(index)
}

func (s *fileSet) take(index int) (*os.File, error) {
	if index < 0 || index >= len(s.files) {
		return nil, fmt.Errorf("%w: inherited descriptor %d of %d", ErrBadHandle, index, len(s.files))
	}
	f := s.files[index]
	if !s.taken[index] {
		s.taken[index] = true
		return f, nil
	}
	// Duplicating through the *os.File, not the number: if the first taker
	// closed it, this fails with os.ErrClosed instead of duplicating
	// whatever reused the number.
	dup, err := dupFile(f)
	if err != nil {
		return nil, fmt.Errorf("shm: inherited descriptor %d: %w", index, err)
	}
	return dup, nil
}
