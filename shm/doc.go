// Package shm provides shared memory segments: mappings that several
// processes of one machine share, each holding a header, a participant
// table, a directory of named objects and a heap the objects live in.
//
// A segment is named (a file in /dev/shm, made with Create, attached with
// Open by any process that knows the name, removed with Unlink) or
// anonymous (a sealed memfd from Anonymous, which reaches children as an
// inherited descriptor, and running processes over a unix socket: see
// Export and Import). Size a segment from what it will hold with Heap and
// the kinds' size helpers. Either way every process maps the whole segment,
// each at its own address, so everything inside refers to everything else
// by offsets from the segment's first byte, never by pointers.
//
// # Layout
//
//	0    header        magic "MMPSHSEG", layout version, size, id, creator
//	                   pid and start time, geometry, checksum; then the
//	                   allocation pointer, directory lock and next slot to
//	                   try on their own line
//	256  participants  two 8-byte words per process slot (participant.go)
//	     directory     128-byte entries: state, kind, owner, offset, size,
//	                   element size, type fingerprint, name
//	     heap          objects, 64-byte aligned
//
// Opening validates the header before anything else is read (magic,
// version, checksum, size against the file, every offset against the
// bounds) and keeps its own copy of the immutable fields, so that another
// process scribbling on the header later cannot make this one read out of
// bounds. Directory entries are validated each time one is used. Memory
// written by another process is input: a bad segment is ErrNotSegment,
// ErrVersion or ErrCorrupt, never a panic or a fault.
//
// # Participants and crashes
//
// Each process attached to a segment holds one slot of its participant
// table, which records its pid and start time. Its ID (Segment.Self: the
// slot and the slot's generation, which only grows) is what lock words,
// queue claims and roles, writers and barrier members store; no other
// process is ever given the same ID over the segment's life, and
// Segment.Alive(id) tells a waiter whether the holder still lives — pid
// reuse cannot fool it. A process that detaches (Detach, or LeaveAll as a
// procs child ends) gives its slot back; one killed while attached leaves
// it claimed until a newcomer finds no free slot and takes over a dead one.
// Attaches go round the table, so no slot churns while others sit idle.
//
// Liveness is read from /proc in the reader's pid namespace, so a segment
// records its creator's pid namespace and refuses to attach a process of
// another one (ErrPidNamespace): two containers sharing /dev/shm would
// otherwise see each other's processes as dead and take over live locks.
// Processes of one pid namespace (one container, or the host) are
// supported; OpenView still reads a segment from elsewhere, with liveness
// as this namespace sees it.
//
// Objects are created whole: Segment.Create allocates, lets the caller
// initialize, and only then publishes the name with one atomic store. A
// creator that dies midway leaves a reserved entry that later creations
// reuse; nobody ever opens a half-built object.
//
// # Crossing processes
//
// A *Segment, and any shared type built on one, encodes with gob as a handle
// (EncodeRef: segment, object name, and an offset for a part embedded in
// an object) and decodes in another process by re-attaching (DecodeRef):
// by id among the segments that process has attached, else by name. The
// decoded object is checked as OpenObject checks it (kind, layout version,
// element type); whatever a failed decode attached is released. procs.Start
// uses Export to learn which segments an argument names and passes their
// descriptors to the child.
//
// # A new shared type
//
// Every shared type has one shape; value and array are the models (with
// internal/typedobj, which does the first four steps for any object
// holding a fixed-size T, with or without a lock). A new type needs:
//
//  1. kind.go here: a Kind at the end of the list (kinds are on disk:
//     never renumber), its name, and its layout version, bumped whenever
//     its bytes or its protocol on shared words change.
//  2. layout.go in its package: the byte layout in a comment beside the
//     header struct (magic, version, ...), unsafe.Offsetof checks that fail
//     the build, and a check of a copied header that returns ErrCorrupt,
//     ErrVersion or ErrTypeMismatch, never panics.
//  3. Its constructor through Segment.Create (which writes the directory
//     entry and the kind's version, and publishes the object only after
//     init wrote it) and its Open through Segment.OpenObject, then the
//     header check; a Size helper for Heap.
//  4. The handle: embed Attachment, GobEncode with EncodeRef, GobDecode
//     with Decode (a Want of its kind and element type, and a function
//     that builds the handle from the checked object). Detach comes with
//     the Attachment. A lock inside the object is a semaphore.MutexAt at
//     a 64-byte-aligned offset; updates under it go through Mutex.Do.
//  5. An Inspect(Object) that reads without writing, and an adapter for
//     shmctl in cmd/shmctl/internal/report/kind_<package>.go: a test there
//     fails for a kind without one.
//  6. Tests: forged headers (each field), the handle crossing to a child
//     process and back, a holder killed mid-operation, Detach releasing
//     the segment.
//
// # Caveats
//
// Memory obtained from a segment is valid until the last handle on it in
// the process is detached; touching it afterwards faults. A named segment
// lives in /dev/shm until Unlink, even after every process detached it:
// unlink what you create (shmctl finds what crashed programs left). A named
// segment's file can be truncated by anyone with write permission, which
// would fault every mapper: only anonymous segments are sealed against it,
// so keep named segments' mode at 0600 (the default) unless you trust every
// user who can open them.
package shm
