// Package report reads the multiproc segments in /dev/shm for shmctl:
// what each file is, who created it and who is attached, which objects it
// holds and what their shared words say (who holds a lock, how deep a
// queue is, who sleeps on it).
//
// # Reading without disturbing
//
// Every read goes through shm.OpenView: the file is opened O_RDONLY and
// mapped PROT_READ, the header is validated as shm.Open validates it, and
// no participant slot is claimed. The per-kind inspectors it calls
// (semaphore.InspectMutex and friends, ringqueue.Inspect, value.Inspect,
// array.Inspect) only load words atomically; a store would fault on the
// read-only mapping, so the kernel enforces the promise. The result is a
// snapshot: by the time it is printed, a live program may have moved on.
//
// # Faults and bad input
//
// A segment is memory other processes own. A file that is not a segment,
// is truncated, corrupt or of another layout version is reported with
// Status and the shm error's text, never a crash; a segment truncated while
// mapped (SIGBUS) or an inspector that panics on an unexpected layout is
// turned into an error for that segment or object (runtime/debug's
// SetPanicOnFault), not the end of the listing.
//
// # Liveness and gc
//
// A process is alive when its pid runs with the start time recorded in
// the participant table, so pid reuse cannot keep a dead segment looking
// alive. Collectable allows removing a segment only when its creator and
// every participant are dead and no other process maps the file (checked
// in /proc/*/maps); when liveness cannot be told, the process counts as
// alive. Foreign and corrupt files are never collectable. A process that
// opens the segment between the check and the unlink keeps its mapping,
// but the name is gone: run gc when the programs using the segments are
// not starting up, or give it a minimum age.
package report
