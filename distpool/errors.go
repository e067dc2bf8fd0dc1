package distpool

import "errors"

// Errors of distpool. Errors of the pool itself reuse procs' sentinels
// (procs.ErrPoolClosed, procs.ErrPoolTerminated, procs.ErrPoolRunning), and
// a task whose worker process died on its host fails with a
// *procs.TaskError matching procs.ErrWorkerDied, as on one machine.
var (
	// ErrWorkerLost: the host running the task was lost (killed, cut
	// off) and the task was not answered within the queue's AckWait
	// (after the last of its deliveries when retries are on).
	ErrWorkerLost = errors.New("distpool: worker host lost")
	// ErrNotPortable: a task argument holds a shared-memory object (a
	// segment, queue, value, lock, pipe), which cannot cross machines.
	ErrNotPortable = errors.New("distpool: shared-memory objects cannot cross machines")
	// ErrBuildMismatch: the host runs a different build of the program
	// than the driver, so it refused the task.
	ErrBuildMismatch = errors.New("distpool: worker host runs a different build")
	// ErrUnauthorized: the server refused the connection's credential.
	ErrUnauthorized = errors.New("distpool: the NATS server refused the credential")
	// ErrHost: the host could not run the task (no such function in its
	// binary, its local pool broken, ...); the error carries its text.
	ErrHost = errors.New("distpool: worker host failed the task")
)
