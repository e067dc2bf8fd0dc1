package shm

import (
	"fmt"
	"os"
	"strings"

	"github.com/edsrzf/mmap-go"
)

// Dir is where named segments live: tmpfs, as shm_open(3) uses.
const Dir = "/dev/shm"

func checkName(name string) error {
	if name == "" || len(name) > 255 || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%w: %q (want 1..255 bytes, no '/')", ErrInvalidName, name)
	}
	return nil
}

func mapFile(f *os.File, name string) (*Segment, error) {
	mem, _, err := mapWhole(f, mmap.RDWR)
	if err != nil {
		return nil, err
	}
	return attach(f, mem, name)
}

// mapWhole maps all of f with prot (mmap.RDWR or mmap.RDONLY), after the
// checks that need no mapping: f must be a regular file (not a FIFO or a
// device left in /dev/shm) at least 8 bytes long, and of a sane size. It
// returns f's stat too. On error it closes f; on success f is the caller's.
func mapWhole(f *os.File, prot int) (mmap.MMap, os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() < 8 {
		_ = f.Close()
		return nil, nil, ErrNotSegment
	}
	if fi.Size() > 1<<41 {
		_ = f.Close()
		return nil, nil, fmt.Errorf("%w: %d bytes", ErrCorrupt, fi.Size())
	}
	mem, err := mmap.MapRegion(f, int(fi.Size()), prot, 0, 0)
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return mem, fi, nil
}
