// Command shmctl lists, inspects and cleans the shared-memory segments
// that multiproc programs leave in /dev/shm.
//
//	shmctl ls [-a] [--json] [PATTERN...]
//	shmctl inspect [--json] NAME...
//	shmctl rm [-f] [--json] NAME...
//	shmctl gc [--dry-run] [--older-than D] [-a] [--json] [PATTERN...]
//
// ls shows each segment's size, mode, age, creator (pid and whether it
// runs), object count and the processes in its participant table; files
// that are not multiproc segments show with -a, and a corrupt segment or
// one of another layout version shows with the reason. inspect shows every
// object of a segment and what its shared words say: a lock's holder
// (participant tag resolved to a pid) and whether it is alive, waiters, and
// consistent/recoverable state; a queue's mode, capacity, slot size, depth,
// closed flag and waiting producers and consumers; a semaphore's value; an
// event's flag; a barrier's parties and members; a value's or array's
// element size, length and whether it is raw or locked.
//
// rm removes named segments; without -f it keeps foreign files and
// segments some live process uses. gc removes segments whose creator and
// every attached process are dead and that no other process maps; it never
// removes a foreign or unreadable file.
//
// Reading disturbs nothing: shmctl maps segments read-only (shm.OpenView),
// never joins a participant table and takes no lock, so what it shows is a
// snapshot of a running program, not a pause of it. --json prints the same
// data for scripts. NAMEs and PATTERNs are names in /dev/shm or paths
// there; D is a duration with a unit (90s, 30m, 2h); "shmctl help CMD"
// shows a command's flags. Exit status: 0 done, 1 something could not be
// done, 2 bad usage.
package main
