package shm

import (
	"hash/fnv"
	"unsafe"
)

// The byte layout of a segment, version 3. All integers are in the host's
// byte order (the segment never leaves the machine); all offsets are from
// the segment's first byte.
//
//	0    header        256 bytes: immutable fields (checksummed), then the
//	                   mutable allocator words on their own cache line
//	256  participants  Participants × 16-byte entries (participant.go), padded to 64 bytes
//	     directory     DirEntries × 128-byte entries
//	     heap          objects, each 64-byte aligned, up to Size
//
// The immutable part is written once, before the segment becomes visible
// under its name (named segments are built under a temporary name and
// linked into place) or is handed to anyone (anonymous ones), so a reader
// that validates it once can trust it afterwards.
const (
	magicWord     uint64 = 0x47455348_53504d4d // "MMPSHSEG" read as little-endian bytes
	layoutVersion uint32 = 3                   // 2: 64-bit process IDs, pid namespace; 3: a version per directory entry

	headerSize    = 256
	cacheLine     = 64
	dirEntrySize  = 128
	maxNameLen    = 80
	objectAlign   = 64
	maxDirEntries = 1 << 16

	// MaxParticipants bounds the participant table: a participant's index
	// must fit the 10 bits an ID gives it.
	MaxParticipants = 1<<idIndexBits - 1

	tableEntrySize = 16

	// DefaultParticipants and DefaultObjects size a segment unless options say otherwise.
	DefaultParticipants = 128
	DefaultObjects      = 64
)

// header is the segment's first 256 bytes.
type header struct {
	Magic        uint64    // magicWord
	Version      uint32    // layoutVersion
	Flags        uint32    // flagAnonymous
	Size         uint64    // whole segment, bytes
	ID           [16]byte  // random; names the segment in handles
	CreatorPid   uint32    // process that created the segment
	Participants uint32    // entries in the participant table
	CreatorStart uint64    // its start time, clock ticks since boot
	CreatedNano  int64     // creation time, Unix nanoseconds
	TableOff     uint64    // participant table
	DirOff       uint64    // directory
	DirEntries   uint32    // directory entries
	_            uint32    //
	HeapOff      uint64    // first byte of the heap
	PidNS        uint64    // creator's pid namespace (inode of /proc/self/ns/pid), 0 if unknown
	Reserved     [3]uint64 // zero in version 2
	Checksum     uint64    // FNV-1a of the bytes before it
	_            [56]byte  // keep the mutable words off the checksummed line

	// Mutable. AllocNext changes only under DirLock, NextSlot by atomic
	// add. Another process writes these: readers check them against the
	// immutable bounds on every use (NextSlot is used modulo the table).
	AllocNext uint64   // next free heap byte
	DirLock   uint64   // ID of the holder, 0 when free
	NextSlot  uint32   // where the next join starts looking (participant.go)
	_         [44]byte // pad to 256
}

const flagAnonymous = 1

// dirEntry describes one named object. Its fields are written under the
// directory lock before State turns entryReserved (State is stored last,
// so an entry is never reserved in another process's name) and never
// change once State is entryReady, so lock-free readers load State and
// then read the rest.
type dirEntry struct {
	State       uint32 // entryFree, entryReserved, entryReady
	Kind        uint32 // Kind
	ElemSize    uint32 // element size for typed objects, else 0
	NameLen     uint16
	Version     uint16 // the kind's layout version (KindVersion) when created
	Owner       uint64 // ID of the creating participant
	Off         uint64 // object's first byte
	Size        uint64 // object's length in bytes
	Fingerprint uint64 // element type fingerprint, 0 when untyped
	Name        [maxNameLen]byte
}

const (
	entryFree     = 0
	entryReserved = 1 // being created; invisible to Lookup
	entryReady    = 2
)

// Compile-time layout checks: a mismatch fails to build (negative array length).
var (
	_ [headerSize - unsafe.Sizeof(header{})]byte
	_ [unsafe.Sizeof(header{}) - headerSize]byte
	_ [dirEntrySize - unsafe.Sizeof(dirEntry{})]byte
	_ [unsafe.Sizeof(dirEntry{}) - dirEntrySize]byte
	_ [unsafe.Offsetof(header{}.Checksum) - 128]byte
	_ [128 - unsafe.Offsetof(header{}.Checksum)]byte
	_ [unsafe.Offsetof(header{}.AllocNext) - 192]byte
	_ [192 - unsafe.Offsetof(header{}.AllocNext)]byte
)

// geometry is where the parts of a segment lie for a given configuration.
type geometry struct {
	tableOff, dirOff, heapOff uint64
}

func computeGeometry(participants, dirEntries uint32) geometry {
	table := uint64(headerSize)
	dir := alignUp(table+uint64(participants)*tableEntrySize, cacheLine)
	heap := alignUp(dir+uint64(dirEntries)*dirEntrySize, objectAlign)
	return geometry{tableOff: table, dirOff: dir, heapOff: heap}
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// checksum covers the immutable part of the header.
func headerChecksum(mem []byte) uint64 {
	h := fnv.New64a()
	h.Write(mem[:unsafe.Offsetof(header{}.Checksum)])
	return h.Sum64()
}
