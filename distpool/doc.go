// Package distpool is procs' Pool across machines: the same registered
// functions and the same calls — procs.Apply, ApplyAsync, Map, MapAsync,
// Imap, ImapUnordered, Starmap, their Context and Timeout forms, callbacks —
// with the worker processes on other hosts, and NATS JetStream carrying
// tasks and results.
//
//	pool, err := distpool.NewPool(ctx, nc)          // the driver
//	squares, err := procs.Map(pool, square, xs, 0) // unchanged code
//
//	err := distpool.Serve(ctx, nc)                  // on each host: the same binary
//
// Both *procs.Pool and *distpool.Pool are procs.Executors, which is what
// the generic functions take.
//
// # One machine, nothing installed
//
// StartServer runs a NATS server with JetStream inside the program,
// listening on 127.0.0.1 with a random token and a store in a temporary
// directory (WithStoreDir keeps it); a driver in the same process may
// connect to it without TCP (Server.ConnectInProcess). Across machines,
// Connect to the URL of a NATS server or cluster you run, with a token
// (WithConnToken) or an nkey seed (WithNkeySeed: challenge-response, no
// secret on the wire), over TLS (WithTLS). A refused credential is
// ErrUnauthorized at Connect.
//
// # What a task goes through
//
// Submit encodes each task as the local pool does (raw bytes for
// fixed-size types, gob otherwise), refuses arguments holding
// shared-memory objects (ErrNotPortable), and publishes one message per
// task to the queue's work-queue stream, stamped with the program's build
// identity. A task or result larger than the server's max payload goes
// through JetStream's object store, which cuts it into chunks: Map's
// chunk is a matter of speed, never of size.
// A host fetches a task only when one of its local workers is idle (so a
// task that kills its host takes no queued task with it), refuses a task
// of another build (ErrBuildMismatch), runs it on its local procs.Pool,
// heartbeats it while it runs, publishes the result to a results stream,
// and only then acks it. The pool takes the first result of each task and
// drops any other.
//
// # Failures
//
//   - A function's error or panic: a *procs.TaskError with its text (and
//     stack), errors.Is procs.ErrTaskPanicked for a panic, as locally.
//   - A worker process killed on its host: that task fails at once with a
//     *procs.TaskError matching procs.ErrWorkerDied and its exit code; the
//     host replaces the worker.
//   - A host lost (killed, cut off): its running tasks fail with
//     ErrWorkerLost once the queue's AckWait (WithAckWait, default 30s)
//     has passed since their last heartbeat. They are not run again:
//     Python's semantics, safe for functions that are not idempotent.
//     WithRetries(n) lets idempotent work run up to n more times first.
//   - The server restarting on its file store: nothing is lost. Queued
//     tasks stay queued, stored results stay stored, and connections
//     reconnect (for about a minute): calls take longer, that is all.
//
// The pool's Size, which sets Map's default chunk and Imap's read-ahead,
// is the sum of the worker slots that live hosts advertise in a KV bucket
// (refreshed every 2s, stale after 6s).
//
// # What it leaves on the server
//
// Two streams (DISTPOOL_TASKS, DISTPOOL_RESULTS), one durable consumer per
// queue, a KV bucket (distpool_hosts) and an object store
// (distpool_blobs), created on first use and kept. A pool's own
// results are purged when it ends (Join after Close, or Terminate), its
// queued tasks by Terminate, its large tasks' and results' objects as
// they are answered and read; what nobody collects expires after an hour.
package distpool
