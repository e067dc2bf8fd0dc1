package shm

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// InheritNamed is Inherit for a descriptor whose segment's name the
// process that passed it says is name ("" for an anonymous segment).
//
// Inherit alone cannot always learn a name: Create builds a segment in an
// unnamed file (O_TMPFILE) and links it under its name afterwards, and
// /proc/self/fd goes on showing the unnamed file's "#<inode>". A child
// that was told the name can Open and Unlink the segment by it, and pass
// it on to processes that open it by name.
func InheritNamed(fd uintptr, name string) (*Segment, error) {
	if name != "" {
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("shm: inherit fd %d: %w", fd, err)
		}
	}
	f := os.NewFile(fd, "segment")
	if f == nil {
		return nil, fmt.Errorf("shm: inherit fd %d: %w", fd, os.ErrInvalid)
	}
	unix.CloseOnExec(int(fd))
	s, err := mapFile(f, name)
	if err != nil {
		return nil, fmt.Errorf("shm: inherit fd %d: %w", fd, err)
	}
	return s, nil
}

// linkedAs reports whether name in Dir is the file behind fd: a name read
// back from /proc may be the "#<inode>" of an O_TMPFILE that was linked
// under another name.
func linkedAs(fd uintptr, name string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(int(fd), &a) != nil || unix.Stat(filepath.Join(Dir, name), &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}
