package shm

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edsrzf/mmap-go"
	"golang.org/x/sys/unix"
)

// Read-only views: looking at a segment without taking part in it.
//
// Open attaches: it claims a slot in the participant table, which is a
// write, and while attached the process counts as one of the segment's
// users. A tool that lists or inspects segments (shmctl) must do neither:
// it must leave the segment byte for byte as it found it, must not keep a
// dead program's segment looking alive, and must work on a segment whose
// table is full. OpenView maps the file read-only (O_RDONLY, PROT_READ,
// MAP_SHARED), validates the header exactly as Open does, and joins
// nothing. The kernel enforces the promise: any store through the mapping
// faults.
//
// The objects a view hands out carry a *Segment, because the packages'
// inspectors read through shm.Object (Bytes, Uint32, Segment().Alive,
// Segment().Lookup). That segment is not registered in the process, has no
// participant tag (Self is 0), and closing it neither unmaps the view nor
// stops it working; but its memory is read-only: creating an object in
// it returns ErrReadOnly, and using it with any other call that writes
// (locking, putting) faults. Use it for reading only.

// A View is a read-only mapping of a named segment. Its methods only load.
type View struct {
	seg     *Segment // unregistered, tagless, over the read-only mapping; handed out with objects
	closed  atomic.Bool
	mode    os.FileMode
	uid     int
	modTime time.Time
	once    sync.Once
	err     error
}

// viewRefs is the reference count given to a view's mapping: a Detach on
// its segment handle (reachable through Object.Segment) only decrements
// it, so the mapping goes away with View.Detach and nothing else.
const viewRefs = math.MaxInt / 2

// OpenView maps the named segment in /dev/shm read-only, without joining
// its participant table or writing anything. A file that is not a
// segment, is truncated or corrupt, or is of another layout version gives
// ErrNotSegment, ErrCorrupt or ErrVersion (wrapped), as Open does; a
// missing one ErrNotFound.
func OpenView(name string) (*View, error) {
	if err := viewsSupported(name); err != nil {
		return nil, err
	}
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("shm: view: %w", err)
	}
	path := filepath.Join(Dir, name)
	// O_NONBLOCK: a FIFO someone left in /dev/shm must not hang the open.
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		if os.IsNotExist(err) {
			err = ErrNotFound
		}
		return nil, fmt.Errorf("shm: view %q: %w", name, err)
	}
	v, err := mapView(f, name)
	if err != nil {
		return nil, fmt.Errorf("shm: view %q: %w", name, err)
	}
	return v, nil
}

// mapView maps f read-only and validates it. It takes ownership of f.
//
// Anyone who can write the file can truncate it between the size check
// and the reads, and reading a mapping past the file's end raises SIGBUS.
// A tool walking /dev/shm must survive that, so a fault while validating
// is turned into ErrCorrupt (runtime/debug.SetPanicOnFault) and the mapping
// is released. Later reads through the view are the caller's to guard.
func mapView(f *os.File, name string) (*View, error) {
	mem, fi, err := mapWhole(f, mmap.RDONLY)
	if err != nil {
		return nil, err
	}
	h, err := validateGuarded(mem)
	if err != nil {
		_ = mem.Unmap()
		_ = f.Close()
		return nil, err
	}
	m := &mapping{
		id: h.ID, name: name, file: f, mem: mem,
		size: h.Size, tableOff: h.TableOff, dirOff: h.DirOff, heapOff: h.HeapOff,
		participants: h.Participants, dirEntries: h.DirEntries, head: h,
		refs:     viewRefs, // see viewRefs; self stays 0: a view is nobody
		readOnly: true,
	}
	v := &View{seg: &Segment{m: m}, mode: fi.Mode(), modTime: fi.ModTime(), uid: -1}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		v.uid = int(st.Uid)
	}
	return v, nil
}

// validateGuarded validates mem and returns a copy of its header (the
// bounds a view uses come from the copy, as Open's do), reporting a memory
// fault as ErrCorrupt.
func validateGuarded(mem []byte) (h header, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: file shrank while being read: %v", ErrCorrupt, r)
		}
	}()
	return validate(mem)
}

// Detach unmaps the view. Objects obtained from it must not be used
// afterwards (their memory is gone; their segment reports ErrClosed).
// Detach is idempotent.
func (v *View) Detach() error {
	v.once.Do(func() {
		v.closed.Store(true)
		v.seg.closed.Store(true)
		v.err = v.seg.m.mem.Unmap()
		if cerr := v.seg.m.file.Close(); v.err == nil {
			v.err = cerr
		}
	})
	return v.err
}

// Name returns the segment's name in /dev/shm.
func (v *View) Name() string { return v.seg.m.name }

// ID returns the segment's random identity as 32 hex digits.
func (v *View) ID() string { return v.seg.ID() }

// Size returns the segment's length in bytes.
func (v *View) Size() int { return int(v.seg.m.size) }

// Mode returns the file's mode bits as they were when the view was opened.
func (v *View) Mode() os.FileMode { return v.mode }

// UID returns the file owner's user id, -1 if unknown.
func (v *View) UID() int { return v.uid }

// ModTime returns the file's modification time when the view was opened.
func (v *View) ModTime() time.Time { return v.modTime }

// reader returns a handle for one read, or ErrClosed. It is a fresh
// Segment over the view's mapping, so that a Detach of the handle objects
// carry (v.seg) cannot stop the view; what it returns is re-pointed at v.seg.
func (v *View) reader() (*Segment, error) {
	if v.closed.Load() {
		return nil, ErrClosed
	}
	return &Segment{m: v.seg.m}, nil
}

func (v *View) adopt(objs []Object) {
	for i := range objs {
		objs[i].seg = v.seg
	}
}

// Info reads the header, participant table and directory, as
// Segment.Info does, without writing. A directory entry that fails
// validation is left out and reported in the error, with the rest of Info.
func (v *View) Info() (Info, error) {
	r, err := v.reader()
	if err != nil {
		return Info{}, err
	}
	info, err := r.Info()
	v.adopt(info.Objects)
	return info, err
}

// Objects lists the segment's ready objects (see Segment.Objects). Their
// memory is read-only.
func (v *View) Objects() ([]Object, error) {
	r, err := v.reader()
	if err != nil {
		return nil, err
	}
	objs, err := r.Objects()
	v.adopt(objs)
	return objs, err
}

// Lookup finds a ready object by name (see Segment.Lookup).
func (v *View) Lookup(name string) (Object, error) {
	r, err := v.reader()
	if err != nil {
		return Object{}, err
	}
	obj, err := r.Lookup(name)
	if err == nil {
		obj.seg = v.seg
	}
	return obj, err
}

// Alive reports whether the participant named by id is attached and its
// process runs (see Segment.Alive). A view is no participant, so no ID
// is its own.
func (v *View) Alive(id uint64) bool {
	// ID 0 is nobody. Segment.Alive answers true for its own ID, which
	// for a view's segment is 0: check here.
	if id == 0 || v.closed.Load() {
		return false
	}
	return v.seg.Alive(id)
}

// Participant returns the participant table's entry for id: ok is false
// when the ID's slot no longer carries it (its process detached, or the
// slot was taken over), so the ID names nobody who is still recorded.
func (v *View) Participant(id uint64) (p Participant, ok bool) {
	m := v.seg.m
	i := idIndex(id)
	if v.closed.Load() || id&^idMask != 0 || i == 0 || i > m.participants {
		return Participant{}, false
	}
	a := atomic.LoadUint64(m.slotA(i))
	if entryPid(a) == 0 || entryGen(a) != idGen(id) {
		return Participant{}, false
	}
	return Participant{ID: id, Pid: int(entryPid(a)), Alive: m.entryAlive(i, a)}, true
}

// DirectoryLock returns the ID of the process holding the segment's
// directory lock (0 when free). A dead holder is taken over by the next
// creation; a tool reports it.
func (v *View) DirectoryLock() uint64 {
	if v.closed.Load() {
		return 0
	}
	return atomic.LoadUint64(&v.seg.m.hdr().DirLock)
}

// Pending counts directory entries reserved by a creation that has not
// finished, and how many of those belong to a process that is gone: a
// creator killed midway leaves such an entry, which later creations reuse.
func (v *View) Pending() (reserved, dead int) {
	if v.closed.Load() {
		return 0, 0
	}
	m := v.seg.m
	for i := uint32(0); i < m.dirEntries; i++ {
		e := m.entry(i)
		if atomic.LoadUint32(&e.State) != entryReserved {
			continue
		}
		reserved++
		if !v.Alive(atomic.LoadUint64(&e.Owner)) {
			dead++
		}
	}
	return reserved, dead
}
