// Package ringqueue is a bounded ring queue of messages in shared memory:
// producers and consumers in any processes that map the segment move
// messages through it with atomics on shared words, no system call while
// nobody waits, and no allocation. It is multiproc's Queue (Python's
// multiprocessing.Queue), at memory speed.
//
// Queue is the byte-level queue: its messages are byte strings of
// 0..SlotSize bytes. Typed[T] and Joinable[T] build on it (see Typed
// queues below). LAYOUT.md, beside the source, gives the memory layout
// precisely enough to write a reader in another language.
//
// # Modes
//
// A queue's mode is fixed at creation (Options.Mode):
//
//   - MPMC: any number of producers and consumers, in any processes. Each
//     slot has a control word (lap, claimant's short ID, state); producers and
//     consumers claim slots with one CAS on that word, and the Tail and Head
//     indices follow the claims (the source states the protocol and why
//     it is right).
//   - SPSC: one producer and one consumer at a time. No control words: the
//     producer publishes by storing Tail after writing the payload, the
//     consumer frees by storing Head, and each caches the other's index,
//     so a run of messages costs one index update per batch.
//     The roles are held by processes and pass on when their holder
//     detaches or dies.
//
// Capacity is a power of two and the slot size is fixed at creation. A
// message longer than a slot is refused with ErrTooLarge naming both sizes
// (messages are never split across slots: a split message could be torn
// by a crash between its parts, and every slot would pay for the
// bookkeeping).
//
// # Calls
//
// Put/Get copy. Reserve and Take hand out the slot's own bytes (zero-copy)
// until Commit and Release. PutBatch, PutBatchFunc and GetBatch move many
// messages per index update and per wake-up. Len, Cap, SlotSize, Empty and
// Full read the indices. Close is queue-wide: later puts fail with
// ErrClosed, consumers drain what is left and then get ErrClosed, and
// everyone asleep in the queue is woken.
//
// Every call that can wait comes in four forms: X waits as long as it
// must, TryX never waits (ErrFull, ErrEmpty), XContext(ctx) gives up when
// ctx ends (with ctx's error) and XTimeout(d) after d (ErrTimeout, and
// also ErrFull or ErrEmpty). That is Put, Get, PutBatch, PutBatchFunc,
// GetBatch, Reserve and Take here, and Put, Get, PutBatch and GetBatch of
// Typed and Joinable. A batch form's bound covers the whole batch: it
// returns the count moved before the bound ran out. Joinable's Join comes
// as Join, JoinContext and JoinTimeout, with no TryJoin: a join that may
// not wait is the question Unfinished() == 0, which the count answers
// better than an error would.
//
// # Typed queues
//
// Typed[T] (NewTyped, OpenTyped) is a queue of T values over the byte
// queue, with the same calls, blocking, timeouts, Close and crash
// behaviour. For a fixed-size T (no pointers, strings, slices, maps,
// channels, funcs or interfaces at any depth) a message is T's bytes,
// copied into the slot and out, and the slot size is sizeof(T); any other
// T travels as one self-contained gob stream per message. The segment
// records T's size and a fingerprint of its layout, so opening with
// another T fails with shm.ErrTypeMismatch. Joinable[T] (NewJoinable,
// OpenJoinable) is a Typed[T] that also counts unfinished tasks, as
// Python's JoinableQueue does: Put counts one, TaskDone uncounts one, Join
// waits until every value put has been got and marked done.
//
// # Blocking
//
// A call that must wait spins, then parks on a futex with a count of
// sleepers, so a blocked consumer uses no CPU and a put or get that
// nobody waits for makes no system call. How it spins is
// the handle's WaitPolicy. By default (WaitPaced) it busy-waits but
// re-checks only every 3 µs, for up to ~50 µs, then yields the CPU a few
// times: every check pulls the lines the other side is writing (with
// several producers or consumers it is a CAS on a contended slot), and
// checking seldom lets messages pile up into runs without a context
// switch per check. With more processes than cores it kept 0.66-0.84× of
// its one producer, one consumer rate at 2×2 to 4×4 processes on 2
// cores, where yielding at every check kept 0.35-0.67×. WaitSpin checks
// every ~0.4 µs: the lowest latency (round trips around a microsecond
// when both sides have a core), at the price of throughput. WaitYield
// gives the core away at every check. WaitPark sleeps at once.
//
// # Crashes
//
// A process may die anywhere (SIGKILL). What survives, MPMC:
//
//   - A producer killed between claiming a slot and publishing it: the
//     claim names it, so the consumer (or producer) it holds up checks,
//     after claimCheckAfter (10 ms), whether it runs; if not, the slot is
//     skipped. The half-written message is never delivered: a message is
//     whole or absent.
//   - A consumer killed holding a message (mid-Get, a Take not released,
//     inside GetBatch's callback): the message is dropped — at most once —
//     and its slot reclaimed the same way when producers need it.
//   - No message is ever delivered twice: a slot's states never recur.
//
// SPSC: a producer killed mid-put leaves nothing visible (publication is
// the Tail store after the payload); a consumer killed before storing
// Head leaves its messages to the next consumer, which takes the role over:
// a message copied out by a Get that never returned is delivered to the
// next consumer, and so is one handed to a Take or GetBatch whose consumer
// died before releasing it (at least once, for those).
//
// A process killed while asleep in the queue leaves the sleepers count
// one too high; the wakers that then find fewer sleepers than counted
// repair it (internal/futex's Gate), so it costs a few needless futex
// wakes, not one on every later signal.
//
// Shared memory is input: Open validates the header (magic, version,
// mode, capacity a power of two, slot size, stride, offsets, indices, and
// that the object holds Capacity×Stride bytes) and returns an error
// wrapping shm.ErrCorrupt (shm.ErrVersion for another layout version);
// a length or control word that no run of the protocol can produce is an
// error too, never an access outside the queue.
//
// # Lifetime
//
// New creates a queue by name in a segment; Open opens it by name in any
// process that has the segment attached; a *Queue passed as a procs
// argument re-opens itself in the child (GobEncode/GobDecode). The queue's
// memory belongs to its segment: nobody unlinks a queue, whoever created
// a named segment unlinks it (shm.Unlink), and the memory goes when the
// last process unmaps it. Detach gives up a handle (its SPSC roles and a
// segment attached for it by GobDecode).
//
// # Python → ringqueue
//
//	q = Queue(maxsize)            q, _ := ringqueue.New(seg, "q", ringqueue.Options{Capacity: n})
//	q.put(b) / q.put_nowait(b)    q.Put(b) / q.TryPut(b)          (ErrFull for queue.Full)
//	q.put(b, timeout=t)           q.PutTimeout(b, t)
//	q.get() / q.get_nowait()      q.Get(buf) / q.TryGet(buf)      (ErrEmpty for queue.Empty)
//	q.qsize(), empty(), full()    q.Len(), q.Empty(), q.Full()
//	q.close()                     q.Close()                       (queue-wide, wakes everyone)
package ringqueue
