package shm

import (
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// The directory lock serializes creations (allocation and entry claims);
// lookups never take it. It is a word holding the holder's ID (see
// participant.go: an ID is never handed to another process, so a dead
// holder's ID can only read as dead). Creations are rare and short and run
// no user code under the lock, so a contender spins, then sleeps in short
// steps, and every few milliseconds checks whether the holder died; if so
// it takes the lock over. What a dead holder left half done is an entry in
// entryReserved state with a dead owner, which later creations reuse:
// never a torn ready entry, because an entry turns ready with one atomic
// store after all its fields are written.
//
// The goroutines of one process share one ID, so they first queue on an
// in-process mutex (dirMu): while a goroutine holds dirMu, no other
// goroutine of this process holds the word, and a word bearing this
// process's own ID is one this process did not set (forged, or left by a
// corrupt segment): ErrCorrupt at once instead of waiting on ourselves
// forever. A live holder is waited for at most dirLockPatience: the lock
// is held for microseconds, so a holder that keeps it that long is no
// creation in progress but a word something else wrote.

// The wait is the module's shared spin (futex.Brief: a few hundred
// loads, then the core given to another goroutine and to another process)
// followed by short sleeps, not futex.Gate.Await: the word is 64 bits in
// the segment header, with no sleepers word beside it and an unlock that
// is one plain store, so nobody would wake a sleeper. A gate would change
// the header's layout for a lock held for microseconds a few times per
// object created; polling at dirLockPoll costs less than that.
const (
	dirLockCheckEvery = 5 * time.Millisecond
	dirLockPoll       = 50 * time.Microsecond
)

// dirLockPatience bounds the wait for a live holder; tests shrink it.
var dirLockPatience = 10 * time.Second

func (m *mapping) lockDir() error {
	m.dirMu.Lock()
	lock := &m.hdr().DirLock
	// Load first: a failed CAS would still pull the holder's line.
	free := func() bool { return atomic.LoadUint64(lock) == 0 && atomic.CompareAndSwapUint64(lock, 0, m.self) }
	if free() {
		return nil
	}
	for i := range futex.BriefRounds {
		if futex.BriefRound(i, free) {
			return nil
		}
	}
	patience := futex.Within(dirLockPatience)
	var lastCheck time.Time
	for {
		time.Sleep(dirLockPoll)
		if free() {
			return nil
		}
		if time.Since(lastCheck) < dirLockCheckEvery {
			continue
		}
		lastCheck = time.Now()
		holder := atomic.LoadUint64(lock)
		switch {
		case holder == 0:
		case holder == m.self:
			m.dirMu.Unlock()
			return fmt.Errorf("%w: directory lock holds this process's ID, which it did not set", ErrCorrupt)
		case !(&Segment{m: m}).Alive(holder):
			if atomic.CompareAndSwapUint64(lock, holder, m.self) {
				return nil
			}
		case patience.Err() != nil:
			m.dirMu.Unlock()
			return fmt.Errorf("%w: directory lock held by live %#x for over %v", ErrCorrupt, holder, dirLockPatience)
		}
	}
}

func (m *mapping) unlockDir() {
	atomic.StoreUint64(&m.hdr().DirLock, 0)
	m.dirMu.Unlock()
}

func (m *mapping) entry(i uint32) *dirEntry {
	return (*dirEntry)(unsafe.Pointer(&m.mem[m.dirOff+uint64(i)*dirEntrySize]))
}

func entryName(e *dirEntry) (string, bool) {
	if e.NameLen == 0 || e.NameLen > maxNameLen {
		return "", false
	}
	return string(e.Name[:e.NameLen]), true
}

// A Spec describes an object to create.
type Spec struct {
	Name        string // 1..80 bytes, unique in the segment
	Kind        Kind
	Size        int    // bytes; the object starts 64-byte aligned
	ElemSize    uint32 // element size for typed objects, else 0
	Fingerprint uint64 // element type fingerprint, else 0
}

// Create allocates a named object, lets init fill its memory (zero on
// entry), and only then publishes it in the directory, so that a process
// opening the name sees the object whole or not at all. If init fails the
// name is freed again; its bytes are not reused.
func (s *Segment) Create(spec Spec, init func(mem []byte) error) (Object, error) {
	if err := s.check(); err != nil {
		return Object{}, err
	}
	if len(spec.Name) == 0 || len(spec.Name) > maxNameLen {
		return Object{}, fmt.Errorf("shm: create object: %w: %q (1..%d bytes)", ErrInvalidName, spec.Name, maxNameLen)
	}
	if !spec.Kind.Valid() {
		return Object{}, fmt.Errorf("shm: create object %q: invalid kind %d", spec.Name, spec.Kind)
	}
	if spec.Size < 0 {
		return Object{}, fmt.Errorf("shm: create object %q: %w: %d", spec.Name, ErrInvalidSize, spec.Size)
	}
	m := s.m
	if m.readOnly {
		return Object{}, fmt.Errorf("shm: create object %q: %w", spec.Name, ErrReadOnly)
	}
	idx, obj, err := m.reserve(spec)
	if err != nil {
		return Object{}, fmt.Errorf("shm: create object %q: %w", spec.Name, err)
	}
	obj.seg = s
	e := m.entry(idx)
	if init != nil {
		if err := init(obj.Bytes()); err != nil {
			atomic.StoreUint32(&e.State, entryFree)
			return Object{}, err
		}
	}
	atomic.StoreUint32(&e.State, entryReady)
	return obj, nil
}

// testHookEntryWrite, when set by a test, runs right after a creation's
// first write to its directory entry.
var testHookEntryWrite func()

// reserve claims an entry and heap space under the directory lock.
func (m *mapping) reserve(spec Spec) (uint32, Object, error) {
	if err := m.lockDir(); err != nil {
		return 0, Object{}, err
	}
	defer m.unlockDir()
	seg := &Segment{m: m}
	free := int64(-1)
	for i := uint32(0); i < m.dirEntries; i++ {
		e := m.entry(i)
		state := atomic.LoadUint32(&e.State)
		stale := state == entryReserved && !seg.Alive(atomic.LoadUint64(&e.Owner))
		if state == entryFree || stale || state > entryReady {
			if free < 0 {
				free = int64(i)
			}
			continue
		}
		if name, _ := entryName(e); name == spec.Name {
			return 0, Object{}, ErrExists
		}
	}
	if free < 0 {
		return 0, Object{}, ErrDirectoryFull
	}
	h := m.hdr()
	next := atomic.LoadUint64(&h.AllocNext)
	if next < m.heapOff || next > m.size {
		return 0, Object{}, fmt.Errorf("%w: allocation pointer %d outside the heap [%d,%d]", ErrCorrupt, next, m.heapOff, m.size)
	}
	off := alignUp(next, objectAlign)
	size := uint64(spec.Size)
	if off > m.size || size > m.size-off {
		return 0, Object{}, fmt.Errorf("%w: %d bytes asked, %d left", ErrNoSpace, size, m.size-min(off, m.size))
	}
	e := m.entry(uint32(free))
	// Every field first, State last: a creator killed midway leaves either
	// the entry as it was or one reserved in its own (dead) name, never one
	// reserved in the name of an earlier, possibly live, owner.
	atomic.StoreUint64(&e.Owner, m.self)
	if testHookEntryWrite != nil {
		testHookEntryWrite() // a creator stopped after its first write to the entry
	}
	e.Kind = uint32(spec.Kind)
	e.ElemSize = spec.ElemSize
	e.Off = off
	e.Size = size
	e.Fingerprint = spec.Fingerprint
	e.NameLen = uint16(len(spec.Name))
	e.Version = spec.Kind.Version()
	e.Name = [maxNameLen]byte{}
	copy(e.Name[:], spec.Name)
	atomic.StoreUint32(&e.State, entryReserved)
	atomic.StoreUint64(&h.AllocNext, off+size)
	return uint32(free), Object{Name: spec.Name, Kind: spec.Kind, Version: spec.Kind.Version(),
		Offset: off, Size: size, ElemSize: spec.ElemSize, Fingerprint: spec.Fingerprint}, nil
}

// Lookup finds a ready object by name, validating its entry.
func (s *Segment) Lookup(name string) (Object, error) {
	if err := s.check(); err != nil {
		return Object{}, err
	}
	m := s.m
	for i := uint32(0); i < m.dirEntries; i++ {
		e := m.entry(i)
		if atomic.LoadUint32(&e.State) != entryReady {
			continue
		}
		if n, ok := entryName(e); !ok || n != name {
			continue
		}
		obj, err := m.objectAt(e)
		if err != nil {
			return Object{}, fmt.Errorf("shm: object %q: %w", name, err)
		}
		obj.seg = s
		return obj, nil
	}
	return Object{}, fmt.Errorf("shm: object %q: %w", name, ErrNotFound)
}

// OpenObject looks name up and checks that it is of the given kind, that its
// layout is the version of that kind this library reads (else ErrVersion),
// and, for typed objects, element size and fingerprint.
func (s *Segment) OpenObject(name string, kind Kind, elemSize uint32, fingerprint uint64) (Object, error) {
	obj, err := s.Lookup(name)
	if err != nil {
		return Object{}, err
	}
	if obj.Kind != kind {
		return Object{}, fmt.Errorf("shm: object %q: %w: it is a %s, not a %s", name, ErrKindMismatch, obj.Kind, kind)
	}
	if obj.Version != kind.Version() {
		return Object{}, fmt.Errorf("shm: object %q: %w: %s layout %d, this library reads %d", name, ErrVersion, kind, obj.Version, kind.Version())
	}
	if obj.ElemSize != elemSize || obj.Fingerprint != fingerprint {
		return Object{}, fmt.Errorf("shm: object %q: %w: element of %d bytes (fingerprint %#x), want %d bytes (%#x)",
			name, ErrTypeMismatch, obj.ElemSize, obj.Fingerprint, elemSize, fingerprint)
	}
	return obj, nil
}

func (m *mapping) objectAt(e *dirEntry) (Object, error) {
	// Copy the entry before checking it, so that what was checked is what is used.
	c := *e
	h := header{HeapOff: m.heapOff, Size: m.size}
	if err := checkEntry(&h, &c); err != nil {
		return Object{}, err
	}
	name, _ := entryName(&c)
	return Object{Name: name, Kind: Kind(c.Kind), Version: c.Version, Offset: c.Off, Size: c.Size,
		ElemSize: c.ElemSize, Fingerprint: c.Fingerprint}, nil
}

// Objects lists the segment's ready objects. An entry that fails validation
// is reported in the error and left out.
func (s *Segment) Objects() ([]Object, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []Object
	var bad error
	m := s.m
	for i := uint32(0); i < m.dirEntries; i++ {
		e := m.entry(i)
		if atomic.LoadUint32(&e.State) != entryReady {
			continue
		}
		obj, err := m.objectAt(e)
		if err != nil {
			bad = fmt.Errorf("shm: directory entry %d: %w", i, err)
			continue
		}
		obj.seg = s
		out = append(out, obj)
	}
	return out, bad
}

// An Object is a named region of a segment's heap.
type Object struct {
	Name        string
	Kind        Kind
	Version     uint16 // the layout version of Kind the object was created with
	Offset      uint64 // from the segment's first byte
	Size        uint64
	ElemSize    uint32
	Fingerprint uint64

	seg *Segment
}

// Segment returns the segment the object lives in.
func (o Object) Segment() *Segment { return o.seg }

// Bytes returns the object's memory: shared, zero-copy, valid while the
// segment stays attached.
func (o Object) Bytes() []byte {
	return o.seg.m.mem[o.Offset : o.Offset+o.Size : o.Offset+o.Size]
}

// Uint32 returns a pointer to the 32-bit word at off within the object, for
// sync/atomic. It panics if the word is out of the object or misaligned:
// offsets come from the caller's layout constants, not from shared memory.
func (o Object) Uint32(off uintptr) *uint32 {
	o.checkWord(off, 4)
	return (*uint32)(unsafe.Pointer(&o.seg.m.mem[o.Offset+uint64(off)]))
}

// Uint64 is Uint32 for a 64-bit word.
func (o Object) Uint64(off uintptr) *uint64 {
	o.checkWord(off, 8)
	return (*uint64)(unsafe.Pointer(&o.seg.m.mem[o.Offset+uint64(off)]))
}

// Pointer returns the address of the byte at off within the object, for
// overlaying a struct whose layout the caller has checked (size, alignment).
func (o Object) Pointer(off uintptr) unsafe.Pointer {
	o.checkWord(off, 1)
	return unsafe.Pointer(&o.seg.m.mem[o.Offset+uint64(off)])
}

func (o Object) checkWord(off uintptr, size uint64) {
	if uint64(off)+size > o.Size || (o.Offset+uint64(off))%size != 0 {
		panic(fmt.Sprintf("shm: word of %d bytes at %d outside object %q of %d bytes or misaligned", size, off, o.Name, o.Size))
	}
}
