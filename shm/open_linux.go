package shm

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edsrzf/mmap-go"
	"golang.org/x/sys/unix"
)

// Create makes a named segment with room for heap bytes of objects (the
// header, participant table and directory come on top) in /dev/shm. It fails
// with ErrExists if the name is taken. The segment is built in an unnamed
// file (O_TMPFILE) and linked under its name only once its header is
// complete, so an Open racing with Create sees a whole segment or none.
func Create(name string, heap int, opts ...Option) (*Segment, error) {
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("shm: create: %w", err)
	}
	c, err := buildConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	size, g, err := totalSize(c, heap)
	if err != nil {
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	fd, err := unix.Open(Dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, uint32(c.mode))
	if err != nil {
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(Dir, name))
	mem, err := buildSegment(f, size, g, c, false)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	// fchmod: the umask must not narrow what the caller asked for.
	err = unix.Fchmod(fd, uint32(c.mode))
	if err == nil {
		err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD,
			filepath.Join(Dir, name), unix.AT_SYMLINK_FOLLOW)
	}
	if err != nil {
		_ = mem.Unmap()
		_ = f.Close()
		if err == unix.EEXIST {
			err = ErrExists
		}
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	s, err := attach(f, mem, name)
	if err != nil {
		_ = unix.Unlink(filepath.Join(Dir, name))
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	return s, nil
}

// Anonymous makes a segment with no name, backed by a memfd, with room for
// heap bytes of objects. Its size is sealed (F_SEAL_SHRINK, F_SEAL_GROW) so
// no process can shrink it under another's mapping, which would fault every
// mapper. Children inherit it as a file descriptor (see procs); it
// disappears when the last process closes it.
func Anonymous(heap int, opts ...Option) (*Segment, error) {
	c, err := buildConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("shm: anonymous: %w", err)
	}
	size, g, err := totalSize(c, heap)
	if err != nil {
		return nil, fmt.Errorf("shm: anonymous: %w", err)
	}
	fd, err := unix.MemfdCreate("multiproc", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("shm: anonymous: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:multiproc")
	mem, err := buildSegment(f, size, g, c, true)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL)
		if err != nil {
			_ = mem.Unmap()
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("shm: anonymous: %w", err)
	}
	return attach(f, mem, "")
}

func buildSegment(f *os.File, size uint64, g geometry, c config, anonymous bool) (mmap.MMap, error) {
	if err := f.Truncate(int64(size)); err != nil {
		return nil, err
	}
	mem, err := mmap.MapRegion(f, int(size), mmap.RDWR, 0, 0)
	if err != nil {
		return nil, err
	}
	if _, err := initHeader(mem, g, c, anonymous); err != nil {
		_ = mem.Unmap()
		return nil, err
	}
	return mem, nil
}

// Open attaches to the named segment in /dev/shm, made by this or any other
// process. It validates the header before reading anything else: a file that
// is no segment, truncated or of another layout version is an error
// (ErrNotSegment, ErrCorrupt, ErrVersion), never a fault.
func Open(name string) (*Segment, error) {
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("shm: open: %w", err)
	}
	path := filepath.Join(Dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if err != nil {
		if os.IsNotExist(err) {
			err = ErrNotFound
		}
		return nil, fmt.Errorf("shm: open %q: %w", name, err)
	}
	s, err := mapFile(f, name)
	if err != nil {
		return nil, fmt.Errorf("shm: open %q: %w", name, err)
	}
	return s, nil
}

// Inherit attaches to a segment whose descriptor this process was given
// (an inherited file descriptor, or one received over a unix socket). It
// takes ownership of fd. The segment's name is the one /proc shows for fd
// if that name still leads to the same file, else none: InheritNamed takes
// the name from whoever passed the descriptor.
func Inherit(fd uintptr) (*Segment, error) {
	f := os.NewFile(fd, "segment")
	if f == nil {
		return nil, fmt.Errorf("shm: inherit fd %d: %w", fd, os.ErrInvalid)
	}
	unix.CloseOnExec(int(fd))
	name := ""
	if target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(fd))); err == nil {
		if rest, ok := strings.CutPrefix(target, Dir+"/"); ok && linkedAs(fd, rest) {
			name = rest
		}
	}
	s, err := mapFile(f, name)
	if err != nil {
		return nil, fmt.Errorf("shm: inherit fd %d: %w", fd, err)
	}
	return s, nil
}

// Unlink removes a named segment from /dev/shm. Processes that have it
// attached keep their mapping; the memory is freed when the last closes it.
func Unlink(name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("shm: unlink: %w", err)
	}
	if err := unix.Unlink(filepath.Join(Dir, name)); err != nil {
		if err == unix.ENOENT {
			err = ErrNotFound
		}
		return fmt.Errorf("shm: unlink %q: %w", name, err)
	}
	return nil
}

// Unlink removes the segment's name from /dev/shm (see the function Unlink).
// It is a no-op for an anonymous segment.
func (s *Segment) Unlink() error {
	if err := s.check(); err != nil {
		return err
	}
	if s.m.name == "" {
		return nil
	}
	return Unlink(s.m.name)
}

// viewsSupported is nil on Linux; see open_other.go.
func viewsSupported(string) error { return nil }
