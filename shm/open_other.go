//go:build !linux

package shm

import (
	"errors"
	"fmt"
)

// Segments need Linux: O_TMPFILE to build a named segment before it is
// linked, memfds for anonymous ones, /proc for process identities, and
// shared futexes for every lock that lives in them. Elsewhere each entry
// point that makes or attaches a segment reports errors.ErrUnsupported,
// wrapped with what was asked, so the module builds on every Unix and
// fails clearly where it would run.

func unsupported(op string) error {
	return fmt.Errorf("shm: %s: %w (shared segments need Linux)", op, errors.ErrUnsupported)
}

// Create returns errors.ErrUnsupported off Linux.
func Create(name string, heap int, opts ...Option) (*Segment, error) {
	return nil, unsupported(fmt.Sprintf("create %q", name))
}

// Anonymous returns errors.ErrUnsupported off Linux.
func Anonymous(heap int, opts ...Option) (*Segment, error) {
	return nil, unsupported("anonymous")
}

// Open returns errors.ErrUnsupported off Linux.
func Open(name string) (*Segment, error) {
	return nil, unsupported(fmt.Sprintf("open %q", name))
}

// Inherit returns errors.ErrUnsupported off Linux.
func Inherit(fd uintptr) (*Segment, error) {
	return nil, unsupported(fmt.Sprintf("inherit fd %d", fd))
}

// InheritNamed returns errors.ErrUnsupported off Linux.
func InheritNamed(fd uintptr, name string) (*Segment, error) {
	return nil, unsupported(fmt.Sprintf("inherit fd %d", fd))
}

// Unlink returns errors.ErrUnsupported off Linux.
func Unlink(name string) error {
	return unsupported(fmt.Sprintf("unlink %q", name))
}

// Unlink returns errors.ErrUnsupported off Linux.
func (s *Segment) Unlink() error {
	return unsupported("unlink")
}

// viewsSupported reports errors.ErrUnsupported off Linux: there is no
// /dev/shm to look in, and no segment to find.
func viewsSupported(name string) error {
	return unsupported(fmt.Sprintf("view %q", name))
}
