package procs

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// A job is the scheduler's view of submitted work: items of one function,
// cut into tasks (ranges of items). Its methods other than finish and
// canceled are called with the pool's lock held.
type job interface {
	funcName() string
	// encodeTask appends the encoding of items [lo, hi) to dst.
	encodeTask(dst []byte, lo, hi int) ([]byte, error)
	// deliver records a task's result payload; fail records its failure.
	// Both report whether that was the job's last task.
	deliver(lo, hi int, payload []byte, w workerRef) (finished bool)
	fail(lo, hi int, err error) (finished bool)
	// finish runs once, after the last task, without the pool's lock.
	finish()
	// canceled reports that nobody wants the results any more: tasks not
	// yet sent are dropped.
	canceled() bool
	// carriesHandles reports that the items' encoding may hold handles of
	// shared objects or connections, whose descriptors must go along
	// (pool_side.go).
	carriesHandles() bool
}

// workerRef names the worker a result came from, for TaskError.
type workerRef struct {
	name string
	pid  int
}

// mapJob runs a function over items; it serves Apply (one item), Map and
// each chunk of Imap.
type mapJob[A, R any] struct {
	fname    string
	items    []A
	results  []R
	errs     []error // nil until an item fails
	left     int     // tasks not yet delivered or failed (pool lock)
	ac       codec[A]
	rc       codec[R]
	onFinish func() // set by the creator
	handles  bool   // A's encoding may hold handles (carriesHandles)
	cancel   atomic.Bool
	done     atomic.Bool // set before onFinish runs
}

func newMapJob[A, R any](f *Func[A, R], items []A) *mapJob[A, R] {
	j := &mapJob[A, R]{
		fname: f.name, items: items, results: make([]R, len(items)),
		ac: codecFor[A](), rc: codecFor[R](),
	}
	// Only gob runs GobEncode: raw, bytes and string codecs hold no handle.
	_, isGob := j.ac.(gobCodec[A])
	j.handles = isGob && mayCarryHandles(reflect.TypeFor[A]())
	return j
}

func (j *mapJob[A, R]) carriesHandles() bool { return j.handles }

func (j *mapJob[A, R]) funcName() string { return j.fname }
func (j *mapJob[A, R]) canceled() bool   { return j.cancel.Load() }

func (j *mapJob[A, R]) encodeTask(dst []byte, lo, hi int) ([]byte, error) {
	return j.ac.encode(dst, j.items[lo:hi])
}

func (j *mapJob[A, R]) setErr(i int, err error) {
	if j.errs == nil {
		j.errs = make([]error, len(j.items))
	}
	j.errs[i] = err
}

func (j *mapJob[A, R]) deliver(lo, hi int, payload []byte, w workerRef) bool {
	status, fails, values, err := parseResult(payload, hi-lo)
	if err == nil {
		if len(fails) == 0 {
			err = j.rc.decode(values, j.results[lo:hi])
		} else {
			// Decode the successful ones, then put them in their places.
			ok := make([]R, hi-lo-len(fails))
			if len(ok) > 0 || len(values) > 0 { // no values at all when every item failed
				err = j.rc.decode(values, ok)
			}
			if err == nil {
				k := 0
				for i, s := range status {
					if s == itemOK {
						j.results[lo+i] = ok[k]
						k++
					}
				}
				for _, f := range fails {
					j.setErr(lo+f.index, &TaskError{Func: j.fname, Worker: w.name, Pid: w.pid,
						Message: f.message, Panicked: f.panicked, Stack: f.stack})
				}
			}
		}
	}
	if err != nil {
		return j.fail(lo, hi, fmt.Errorf("procs: %q: result from pool worker %q (pid %d): %w", j.fname, w.name, w.pid, err))
	}
	j.left--
	return j.left == 0
}

func (j *mapJob[A, R]) fail(lo, hi int, err error) bool {
	for i := lo; i < hi; i++ {
		j.setErr(i, err)
	}
	j.left--
	return j.left == 0
}

func (j *mapJob[A, R]) finish() {
	j.done.Store(true)
	if j.onFinish != nil {
		j.onFinish()
	}
}

// firstErr returns the error of the lowest-numbered failed item.
func (j *mapJob[A, R]) firstErr() error {
	for _, e := range j.errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// An AsyncResult is the result of ApplyAsync or MapAsync, ready later
// (Python's AsyncResult). Its methods are safe for concurrent use.
type AsyncResult[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func newAsyncResult[T any]() *AsyncResult[T] { return &AsyncResult[T]{done: make(chan struct{})} }

// set records the outcome and, callbacks first, makes it ready.
func (r *AsyncResult[T]) set(v T, err error, cb callbacks[T]) {
	r.val, r.err = v, err
	switch {
	case err == nil && cb.onResult != nil:
		cb.onResult(v)
	case err != nil && cb.onError != nil:
		cb.onError(err)
	}
	close(r.done)
}

// Get waits for the result and returns it, or the task's error (Python's
// get()).
func (r *AsyncResult[T]) Get() (T, error) { return r.get(futex.Block()) }

// TryGet is Get that does not wait: ErrNotReady (wrapped) while the
// result is not ready.
func (r *AsyncResult[T]) TryGet() (T, error) { return r.get(futex.NoWait()) }

// GetContext is Get that gives up when ctx ends, returning its error
// (wrapped). The task itself goes on.
func (r *AsyncResult[T]) GetContext(ctx context.Context) (T, error) {
	return r.get(futex.WithContext(ctx))
}

// GetTimeout is Get that gives up after d with ErrTimeout (Python's
// get(timeout) raising TimeoutError). The task itself goes on.
func (r *AsyncResult[T]) GetTimeout(d time.Duration) (T, error) { return r.get(futex.Within(d)) }

func (r *AsyncResult[T]) get(b futex.Bound) (T, error) {
	if err := r.wait(b); err != nil {
		var zero T
		return zero, err
	}
	return r.val, r.err
}

// Wait waits until the result is ready (Python's wait()). It returns
// nothing: the task's own error comes from Get.
func (r *AsyncResult[T]) Wait() { _ = r.wait(futex.Block()) }

// TryWait reports, without waiting, whether the result is ready: nil, or
// ErrNotReady (wrapped). Ready says the same as a bool.
func (r *AsyncResult[T]) TryWait() error { return r.wait(futex.NoWait()) }

// WaitContext waits until the result is ready or ctx ends, then returns
// nil or ctx's error (wrapped). The task's own error comes from Get.
func (r *AsyncResult[T]) WaitContext(ctx context.Context) error {
	return r.wait(futex.WithContext(ctx))
}

// WaitTimeout waits up to d until the result is ready (Python's
// wait(timeout)), then returns nil or ErrTimeout, as GetTimeout does.
// The task's own error comes from Get.
func (r *AsyncResult[T]) WaitTimeout(d time.Duration) error { return r.wait(futex.Within(d)) }

func (r *AsyncResult[T]) wait(b futex.Bound) error {
	switch err := awaitChan(b, r.done); {
	case err == errNotYet:
		return fmt.Errorf("procs: pool result: %w", ErrNotReady)
	case err != nil:
		return fmt.Errorf("procs: waiting for a pool result: %w", err)
	}
	return nil
}

// Ready reports whether the result is ready.
func (r *AsyncResult[T]) Ready() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Successful reports whether the task succeeded; before it is ready it
// returns ErrNotReady.
func (r *AsyncResult[T]) Successful() (bool, error) {
	if !r.Ready() {
		return false, fmt.Errorf("procs: pool result: %w", ErrNotReady)
	}
	return r.err == nil, nil
}

// Done returns a channel closed when the result is ready.
func (r *AsyncResult[T]) Done() <-chan struct{} { return r.done }

// An AsyncOption adds a callback to ApplyAsync or MapAsync.
type AsyncOption interface{ asyncOption() }

type onResultOpt[T any] struct{ fn func(T) }
type onErrorOpt struct{ fn func(error) }

func (onResultOpt[T]) asyncOption() {}
func (onErrorOpt) asyncOption()     {}

// OnResult calls fn with the result when the task succeeds (Python's
// callback). Callbacks run in the parent, one at a time on one goroutine
// of the pool, before the result is ready (so Get returns after they ran):
// keep them short. fn must take the result type (for MapAsync, a slice);
// another type panics when the option is used.
func OnResult[T any](fn func(T)) AsyncOption { return onResultOpt[T]{fn} }

// OnError calls fn with the error when the task fails (Python's
// error_callback), in the same way as OnResult.
func OnError(fn func(error)) AsyncOption { return onErrorOpt{fn} }

type callbacks[T any] struct {
	onResult func(T)
	onError  func(error)
}

func (c callbacks[T]) any() bool { return c.onResult != nil || c.onError != nil }

func collectCallbacks[T any](opts []AsyncOption) callbacks[T] {
	var c callbacks[T]
	for _, o := range opts {
		switch o := o.(type) {
		case onResultOpt[T]:
			c.onResult = o.fn
		case onErrorOpt:
			c.onError = o.fn
		default:
			panic(fmt.Sprintf("procs: %T does not take the result type %T", o, *new(T)))
		}
	}
	return c
}
