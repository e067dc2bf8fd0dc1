package shm

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// A Segment is a handle on a shared mapping. Every handle on the same
// segment in one process shares a single mapping and a single participant
// slot; the mapping goes away when the last handle is closed.
//
// Pointers and slices obtained from a segment (and from the objects that
// live in it) are valid until the last handle on it is closed: using them
// afterwards faults, as with any unmapped memory.
type Segment struct {
	m      *mapping
	closed atomic.Bool
}

// mapping is one process's view of a segment.
type mapping struct {
	id   [16]byte
	name string // "" for an anonymous segment
	file *os.File
	mem  mmap.MMap

	// Copies of the validated immutable header: other processes write the
	// mapping, so bounds come from here, never from a second read of it.
	size, tableOff, dirOff, heapOff uint64
	participants, dirEntries        uint32
	head                            header // the whole validated copy (creator, creation time)

	self     uint64     // this process's ID (participant.go); 0 for a read-only view
	dirMu    sync.Mutex // queues this process's goroutines for the directory lock
	readOnly bool       // mapped PROT_READ by OpenView: every store would fault

	refs int // handles open, guarded by registry.mu
}

// An Option configures a segment at creation.
type Option func(*config)

type config struct {
	mode         os.FileMode
	participants uint32
	objects      uint32
}

// WithMode sets a named segment's permission bits (default 0600).
func WithMode(mode os.FileMode) Option { return func(c *config) { c.mode = mode.Perm() } }

// WithParticipants sizes the participant table: how many processes can have
// the segment attached at once (default DefaultParticipants, at most MaxParticipants).
func WithParticipants(n int) Option {
	return func(c *config) { c.participants = uint32(min(max(n, 0), MaxParticipants+1)) }
}

// WithObjects sizes the object directory (default DefaultObjects).
func WithObjects(n int) Option {
	return func(c *config) { c.objects = uint32(min(max(n, 0), maxDirEntries+1)) }
}

func buildConfig(opts []Option) (config, error) {
	c := config{mode: 0o600, participants: DefaultParticipants, objects: DefaultObjects}
	for _, o := range opts {
		o(&c)
	}
	if c.participants == 0 || c.participants > MaxParticipants {
		return c, fmt.Errorf("%w: participants must be 1..%d", ErrInvalidSize, MaxParticipants)
	}
	if c.objects == 0 || c.objects > maxDirEntries {
		return c, fmt.Errorf("%w: objects must be 1..%d", ErrInvalidSize, maxDirEntries)
	}
	return c, nil
}

// totalSize is the segment's length for a heap of heap bytes: the header,
// table and directory come on top, rounded up to whole pages.
func totalSize(c config, heap int) (uint64, geometry, error) {
	if heap < 0 || heap > 1<<40 {
		return 0, geometry{}, fmt.Errorf("%w: %d bytes", ErrInvalidSize, heap)
	}
	g := computeGeometry(c.participants, c.objects)
	return alignUp(g.heapOff+uint64(heap), uint64(os.Getpagesize())), g, nil
}

// initHeader writes a fresh header into mem, which is zero.
func initHeader(mem []byte, g geometry, c config, anonymous bool) ([16]byte, error) {
	h := (*header)(unsafe.Pointer(&mem[0]))
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return id, err
	}
	start, _, err := processStart(os.Getpid())
	if err != nil {
		return id, err
	}
	h.Magic = magicWord
	h.Version = layoutVersion
	if anonymous {
		h.Flags = flagAnonymous
	}
	h.Size = uint64(len(mem))
	h.ID = id
	h.CreatorPid = uint32(os.Getpid())
	h.Participants = c.participants
	h.CreatorStart = start
	h.PidNS = pidNamespace()
	h.CreatedNano = time.Now().UnixNano()
	h.TableOff, h.DirOff, h.HeapOff = g.tableOff, g.dirOff, g.heapOff
	h.DirEntries = c.objects
	h.AllocNext = g.heapOff
	h.Checksum = headerChecksum(mem)
	return id, nil
}

// attach validates a mapping of f and returns a handle on it, sharing the
// process's existing mapping of the same segment if there is one. It takes
// ownership of f and of mem.
func attach(f *os.File, mem mmap.MMap, name string) (*Segment, error) {
	h, err := validate(mem)
	if err == nil && h.PidNS != pidNamespace() {
		err = fmt.Errorf("%w: created in pid namespace %d, this process is in %d", ErrPidNamespace, h.PidNS, pidNamespace())
	}
	if err != nil {
		_ = mem.Unmap()
		_ = f.Close()
		return nil, err
	}
	m := &mapping{
		id: h.ID, name: name, file: f, mem: mem,
		size: h.Size, tableOff: h.TableOff, dirOff: h.DirOff, heapOff: h.HeapOff,
		participants: h.Participants, dirEntries: h.DirEntries, head: h,
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if old, ok := registry.byID[m.id]; ok {
		// Already attached: one mapping and one participant slot per process.
		_ = mem.Unmap()
		_ = f.Close()
		old.refs++
		return &Segment{m: old}, nil
	}
	id, err := m.join()
	if err != nil {
		_ = mem.Unmap()
		_ = f.Close()
		return nil, err
	}
	m.self = id
	m.refs = 1
	registry.byID[m.id] = m
	return &Segment{m: m}, nil
}

// registry holds every segment attached in this process, by id, so that a
// handle decoded from gob finds the mapping it names.
var registry = struct {
	mu   sync.Mutex
	byID map[[16]byte]*mapping
}{byID: map[[16]byte]*mapping{}}

// Detach releases this handle. The last handle on a segment gives up the
// process's participant slot, unmaps the segment and closes its descriptor;
// a named segment stays in /dev/shm until Unlink. Detach is idempotent.
func (s *Segment) Detach() error {
	if s == nil || s.m == nil || !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	m := s.m
	m.refs--
	if m.refs > 0 {
		return nil
	}
	delete(registry.byID, m.id)
	m.leave()
	err := m.mem.Unmap()
	if cerr := m.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// LeaveAll gives back this process's participant entry in every segment it
// has attached, leaving the mappings in place: the last step of a process
// that ends normally without closing its segments (a procs child whose
// function returned). Its IDs read as dead at once, so what it still holds
// is taken over with ErrOwnerDead, and its entry is free for the next
// process instead of waiting to be found dead. Nothing may use the
// segments afterwards but to exit.
func LeaveAll() {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, m := range registry.byID {
		m.leave()
	}
}

func (s *Segment) check() error {
	if s == nil || s.m == nil || s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Name returns the segment's name, "" for an anonymous segment.
func (s *Segment) Name() string { return s.m.name }

// ID returns the segment's random identity as 32 hex digits.
func (s *Segment) ID() string { return hex.EncodeToString(s.m.id[:]) }

// Size returns the segment's length in bytes, header included.
func (s *Segment) Size() int { return int(s.m.size) }

// Anonymous reports whether the segment is a memfd with no name.
func (s *Segment) Anonymous() bool { return s.m.name == "" }

// File returns the descriptor behind the segment, owned by the segment: to
// hand it to a child, pass it in exec.Cmd.ExtraFiles.
func (s *Segment) File() *os.File { return s.m.file }

// Info is what a segment's header says about it.
type Info struct {
	ID           string
	Name         string
	Size         int
	Used         int // heap bytes allocated
	Free         int // heap bytes left
	CreatorPid   int
	CreatorAlive bool
	Created      time.Time
	Participants []Participant // live or dead entries of the table, in slot order
	Objects      []Object
}

func (m *mapping) hdr() *header { return (*header)(unsafe.Pointer(&m.mem[0])) }
