package procs

import (
	"fmt"
	"sync"
)

// An Executor runs the tasks that the generic functions (Apply,
// ApplyAsync, Map, MapAsync, Imap, ImapUnordered, Starmap, and their
// Context and Timeout forms) make of a call. The bounds are the generic
// functions' business: a call that gives up marks its Job Canceled, and
// the executor need only drop the tasks it has not sent. *Pool is the Executor of this machine; a pool in another package
// (distpool's, whose workers are other machines) satisfies it too, so
// code written against the generic functions runs on either unchanged.
//
// The generic functions cut a call into a Job and give it to Submit; the
// executor encodes each task with Job.EncodeTask, has it run by a worker
// that calls RunEncoded-style entry points (the same binary, so the same
// registered functions and codecs), and reports each task's end with
// exactly one Job.Deliver or Job.Fail.
type Executor interface {
	// Size is the number of workers: it sets Map's default chunk and how
	// far Imap reads ahead.
	Size() int
	// Submit queues every task of j, or returns an error (ErrPoolClosed,
	// ...) and queues none.
	Submit(j *Job) error
	// Callback runs fn later on the executor's callback goroutine, one at
	// a time and in order (OnResult and OnError callbacks run this way).
	Callback(fn func())
}

// A Job is one call of a generic function, cut into tasks: task i covers
// a range of the call's items. An Executor reports the end of each task
// once, with Deliver or Fail; the call completes after the last.
type Job struct {
	j     job
	n     int
	bound func(i int) (lo, hi int)
	mu    sync.Mutex // serializes Deliver and Fail from other executors
}

// Func returns the name of the registered function the tasks run.
func (j *Job) Func() string { return j.j.funcName() }

// Tasks returns the number of tasks.
func (j *Job) Tasks() int { return j.n }

// Items returns the number of items of task i.
func (j *Job) Items(i int) int {
	lo, hi := j.bound(i)
	return hi - lo
}

// EncodeTask appends task i's items, in the pool's encoding, to dst.
func (j *Job) EncodeTask(dst []byte, i int) ([]byte, error) {
	lo, hi := j.bound(i)
	return j.j.encodeTask(dst, lo, hi)
}

// Canceled reports that nobody wants the results any more (an Imap loop
// broke off, an ApplyContext gave up): tasks not yet sent may be
// dropped, with Fail.
func (j *Job) Canceled() bool { return j.j.canceled() }

// A Worker names the process a task ran in, for TaskError.
type Worker struct {
	Name string
	Pid  int
}

// Deliver records task i's result payload, as a worker's RunEncoded
// returned it. A payload that does not parse fails the task with
// ErrProtocol.
func (j *Job) Deliver(i int, payload []byte, w Worker) {
	lo, hi := j.bound(i)
	j.mu.Lock()
	last := j.j.deliver(lo, hi, payload, workerRef{name: w.Name, pid: w.Pid})
	j.mu.Unlock()
	if last {
		j.j.finish()
	}
}

// Fail records task i's failure: each of its items gets err.
func (j *Job) Fail(i int, err error) {
	lo, hi := j.bound(i)
	j.mu.Lock()
	last := j.j.fail(lo, hi, err)
	j.mu.Unlock()
	if last {
		j.j.finish()
	}
}

// Submit queues j's tasks on the pool's workers (Executor).
func (p *Pool) Submit(j *Job) error { return p.submit(j.j, j.n, j.bound) }

// Callback runs fn on the pool's callback goroutine (Executor).
func (p *Pool) Callback(fn func()) { p.callbacks.Push(fn) }

// RunEncoded queues one task of items items of the registered function
// fname, encoded by Job.EncodeTask in another process of the same binary
// (a distpool worker host feeds its local pool this way), and calls done
// once, from a pool goroutine, with the result payload for Job.Deliver and
// the worker that made it, or with the error for Job.Fail (a *TaskError
// when the worker died). done must not block for long.
func (p *Pool) RunEncoded(fname string, items int, task []byte, done func(payload []byte, w Worker, err error)) error {
	if items <= 0 || done == nil {
		return fmt.Errorf("procs: RunEncoded %q: %d items, done %v: want at least one item and a done function", fname, items, done != nil)
	}
	if _, ok := lookupPoolRunner(fname); !ok {
		return fmt.Errorf("procs: RunEncoded: no function registered as %q in this binary", fname)
	}
	j := &rawJob{fname: fname, task: task, done: done}
	return p.submit(j, 1, func(int) (int, int) { return 0, items })
}

// rawJob is a task that arrived encoded: its payload goes back as it is.
type rawJob struct {
	fname   string
	task    []byte
	payload []byte
	w       Worker
	err     error
	done    func([]byte, Worker, error)
}

func (j *rawJob) funcName() string { return j.fname }
func (j *rawJob) canceled() bool   { return false }

// carriesHandles is false: a task encoded in another process (on another
// machine, for distpool) cannot name this machine's segments or Conns;
// the submitting side refuses them (distpool.ErrNotPortable).
func (j *rawJob) carriesHandles() bool { return false }
func (j *rawJob) encodeTask(dst []byte, _, _ int) ([]byte, error) {
	return append(dst, j.task...), nil
}
func (j *rawJob) deliver(_, _ int, payload []byte, w workerRef) bool {
	j.payload = append([]byte(nil), payload...) // payload may live in a queue slot
	j.w = Worker{Name: w.name, Pid: w.pid}
	return true
}
func (j *rawJob) fail(_, _ int, err error) bool { j.err = err; return true }
func (j *rawJob) finish()                       { j.done(j.payload, j.w, j.err) }

// complete makes a result ready: on the executor's callback goroutine
// when there are callbacks (they run first), else right here.
func complete(e Executor, set func(), hasCallbacks bool) {
	if hasCallbacks {
		e.Callback(set)
		return
	}
	set()
}

// submitJob hands n tasks of j to e, task i covering items bound(i).
func submitJob(e Executor, j job, n int, bound func(i int) (lo, hi int)) error {
	return e.Submit(&Job{j: j, n: n, bound: bound})
}

// chunkSize is Map's chunk for items items on workers workers: chunk if
// positive, else about four tasks per worker, as Python computes it.
func chunkSize(workers, items, chunk int) int {
	if chunk > 0 {
		return chunk
	}
	workers = max(workers, 1)
	c := items / (4 * workers)
	if items%(4*workers) != 0 {
		c++
	}
	return max(c, 1)
}
