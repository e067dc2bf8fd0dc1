package procs

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// Submitting work to a Pool. These are functions, not methods, because
// they are generic in the function's argument and result types (Go
// methods cannot have type parameters). They take any Executor: a *Pool,
// or a pool whose workers are elsewhere (distpool's, on other machines).
//
// Python → procs:
//
//	pool.apply(f, (x,))                procs.Apply(pool, f, x)
//	pool.apply_async(f, (x,)).get(t)   procs.ApplyTimeout(pool, f, x, t), or ApplyContext
//	pool.apply_async(f, (x,), cb, ecb) procs.ApplyAsync(pool, f, x, procs.OnResult(cb), procs.OnError(ecb))
//	pool.map(f, xs, chunksize)         procs.Map(pool, f, xs, chunk)
//	pool.map_async(f, xs).get(t)       procs.MapTimeout(pool, f, xs, 0, t), or MapContext
//	pool.map_async(f, xs)              procs.MapAsync(pool, f, xs, 0)
//	pool.imap(f, xs)                   for r, err := range procs.Imap(pool, f, slices.Values(xs), 1)
//	pool.imap_unordered(f, xs)         procs.ImapUnordered(pool, f, slices.Values(xs), 1)
//	pool.starmap(g, [(a, b), ...])     procs.Starmap(pool, g, []procs.Args2[A, B]{{a, b}, ...}, 0), g from Register2
//	pool.close(); pool.join()          pool.Close(); pool.Join()
//	pool.terminate(), with Pool() as p pool.Terminate(), defer pool.Terminate()

// The blocking calls (Apply, Map, Starmap, Imap, ImapUnordered) come with
// Context and Timeout forms; Python spells those as the async call's
// get(timeout): pool.apply_async(f, (x,)).get(5) is
// procs.ApplyTimeout(pool, f, x, 5*time.Second). When the bound runs out
// the call returns its error and drops the tasks not yet sent to a
// worker; tasks already running go on, and their workers take the next
// task when they are done, as Python's do. None has a Try form: a call
// that submits work always queues it, and whether a worker is free at
// this instant is no answer anybody could act on. ApplyAsync and
// MapAsync are the calls that do not wait.

// Apply runs f(arg) in a worker and returns its result (Python's apply).
func Apply[A, R any](p Executor, f *Func[A, R], arg A) (R, error) {
	return apply(futex.Block(), p, f, arg)
}

// ApplyContext is Apply that returns ctx's error (wrapped) when ctx ends
// first. A task not yet sent to a worker is then dropped; one running
// goes on.
func ApplyContext[A, R any](ctx context.Context, p Executor, f *Func[A, R], arg A) (R, error) {
	return apply(futex.WithContext(ctx), p, f, arg)
}

// ApplyTimeout is Apply that gives up after d with ErrTimeout (Python's
// apply_async(...).get(timeout)), as ApplyContext gives up.
func ApplyTimeout[A, R any](p Executor, f *Func[A, R], arg A, d time.Duration) (R, error) {
	return apply(futex.Within(d), p, f, arg)
}

func apply[A, R any](b futex.Bound, p Executor, f *Func[A, R], arg A) (R, error) {
	if err := b.Err(); err != nil { // given up before it began: submit nothing
		var zero R
		return zero, fmt.Errorf("procs: waiting for a pool result: %w", err)
	}
	r, j := applyAsync(p, f, arg, nil)
	return awaitJob(b, r, j)
}

// awaitJob waits within b for r, the result of j. When the bound runs out
// first, j's tasks not yet sent are dropped (nil j: nothing to drop).
func awaitJob[A, R, T any](b futex.Bound, r *AsyncResult[T], j *mapJob[A, R]) (T, error) {
	if err := r.wait(b); err != nil {
		if j != nil {
			j.cancel.Store(true)
		}
		var zero T
		return zero, err
	}
	return r.val, r.err
}

// ApplyAsync submits f(arg) and returns at once. Callbacks (OnResult,
// OnError) run in this process when the task ends. On a closed pool the
// result is ready at once with ErrPoolClosed, and no callback runs.
func ApplyAsync[A, R any](p Executor, f *Func[A, R], arg A, opts ...AsyncOption) *AsyncResult[R] {
	r, _ := applyAsync(p, f, arg, opts)
	return r
}

func applyAsync[A, R any](p Executor, f *Func[A, R], arg A, opts []AsyncOption) (*AsyncResult[R], *mapJob[A, R]) {
	cb := collectCallbacks[R](opts)
	r := newAsyncResult[R]()
	j := newMapJob(f, []A{arg})
	j.left = 1
	j.onFinish = func() { complete(p, func() { r.set(j.results[0], j.firstErr(), cb) }, cb.any()) }
	if err := submitJob(p, j, 1, func(int) (int, int) { return 0, 1 }); err != nil {
		var zero R
		r.set(zero, err, callbacks[R]{})
	}
	return r, j
}

// Map runs f on every item, in chunks of chunk items per task (chunk <= 0:
// about four tasks per worker, as Python computes it), and returns the
// results in order. If items fail, it returns the results it has and the
// error of the first failed item; Imap gives every item its own error.
func Map[A, R any](p Executor, f *Func[A, R], items []A, chunk int) ([]R, error) {
	return mapBound(futex.Block(), p, f, items, chunk)
}

// MapContext is Map that returns ctx's error (wrapped) and no results
// when ctx ends first. The chunks not yet sent to a worker are then
// dropped; those running go on.
func MapContext[A, R any](ctx context.Context, p Executor, f *Func[A, R], items []A, chunk int) ([]R, error) {
	return mapBound(futex.WithContext(ctx), p, f, items, chunk)
}

// MapTimeout is Map that gives up after d with ErrTimeout (Python's
// map_async(...).get(timeout)), as MapContext gives up.
func MapTimeout[A, R any](p Executor, f *Func[A, R], items []A, chunk int, d time.Duration) ([]R, error) {
	return mapBound(futex.Within(d), p, f, items, chunk)
}

func mapBound[A, R any](b futex.Bound, p Executor, f *Func[A, R], items []A, chunk int) ([]R, error) {
	if err := b.Err(); err != nil { // given up before it began: submit nothing
		return nil, fmt.Errorf("procs: waiting for a pool result: %w", err)
	}
	r, j := mapAsync(p, f, items, chunk, nil)
	return awaitJob(b, r, j)
}

// MapAsync is Map that returns at once (see ApplyAsync for callbacks,
// which take the whole []R).
func MapAsync[A, R any](p Executor, f *Func[A, R], items []A, chunk int, opts ...AsyncOption) *AsyncResult[[]R] {
	r, _ := mapAsync(p, f, items, chunk, opts)
	return r
}

// mapAsync is MapAsync that also returns the job, nil when there are no
// items.
func mapAsync[A, R any](p Executor, f *Func[A, R], items []A, chunk int, opts []AsyncOption) (*AsyncResult[[]R], *mapJob[A, R]) {
	cb := collectCallbacks[[]R](opts)
	r := newAsyncResult[[]R]()
	if len(items) == 0 {
		complete(p, func() { r.set([]R{}, nil, cb) }, cb.any())
		return r, nil
	}
	chunk = chunkSize(p.Size(), len(items), chunk)
	// A copy: items are encoded when their task is sent, maybe much later.
	j := newMapJob(f, slices.Clone(items))
	n := (len(items) + chunk - 1) / chunk
	j.left = n
	j.onFinish = func() { complete(p, func() { r.set(j.results, j.firstErr(), cb) }, cb.any()) }
	err := submitJob(p, j, n, func(i int) (int, int) { return i * chunk, min(len(items), (i+1)*chunk) })
	if err != nil {
		r.set(nil, err, callbacks[[]R]{})
	}
	return r, j
}

// Imap runs f on the items as the loop asks for results, chunk items per
// task (chunk <= 0: 1), and yields the results in the items' order, each
// with its own error. It reads items ahead of the loop by a bounded
// window, not all at once; breaking out of the loop drops the tasks not
// yet sent. Errors of the pool itself (closed, terminated) come as the
// error of every remaining item.
func Imap[A, R any](p Executor, f *Func[A, R], items iter.Seq[A], chunk int) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) { runStream(futex.Block(), p, f, items, chunk, true, yield) }
}

// ImapContext is Imap bounded by ctx: once ctx has ended the loop gets one
// last pair, the zero result with ctx's error (wrapped), and ends, as if
// it had broken off.
func ImapContext[A, R any](ctx context.Context, p Executor, f *Func[A, R], items iter.Seq[A], chunk int) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		runStream(futex.WithContext(ctx), p, f, items, chunk, true, yield)
	}
}

// ImapTimeout is Imap bounded by d from the start of the loop (Python
// bounds each next(timeout) instead): once d has passed, the loop gets the
// zero result with ErrTimeout and ends, as ImapContext's does.
func ImapTimeout[A, R any](p Executor, f *Func[A, R], items iter.Seq[A], chunk int, d time.Duration) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) { runStream(futex.Within(d), p, f, items, chunk, true, yield) }
}

// ImapUnordered is Imap yielding results as they come, in any order.
func ImapUnordered[A, R any](p Executor, f *Func[A, R], items iter.Seq[A], chunk int) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) { runStream(futex.Block(), p, f, items, chunk, false, yield) }
}

// ImapUnorderedContext is ImapUnordered bounded by ctx, as ImapContext is.
func ImapUnorderedContext[A, R any](ctx context.Context, p Executor, f *Func[A, R], items iter.Seq[A], chunk int) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		runStream(futex.WithContext(ctx), p, f, items, chunk, false, yield)
	}
}

// ImapUnorderedTimeout is ImapUnordered bounded by d, as ImapTimeout is.
func ImapUnorderedTimeout[A, R any](p Executor, f *Func[A, R], items iter.Seq[A], chunk int, d time.Duration) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		runStream(futex.Within(d), p, f, items, chunk, false, yield)
	}
}

// runStream is every Imap form: it submits chunks ahead of the loop and
// yields their results; when b runs out it yields b's error once and
// returns, and the deferred cancel drops the chunks not yet sent.
func runStream[A, R any](b futex.Bound, p Executor, f *Func[A, R], items iter.Seq[A], chunk int, ordered bool, yield func(R, error) bool) {
	chunk = max(chunk, 1)
	next, stop := iter.Pull(items)
	defer stop()
	notify := make(chan struct{}, 1)
	ahead := 4*max(p.Size(), 1) + 4 // chunks submitted and not yet yielded
	var window []*mapJob[A, R]
	defer func() {
		for _, j := range window {
			j.cancel.Store(true) // the loop broke off: do not send them
		}
	}()
	more := true
	for {
		for more && len(window) < ahead {
			var batch []A
			for len(batch) < chunk {
				a, ok := next()
				if !ok {
					more = false
					break
				}
				batch = append(batch, a)
			}
			if len(batch) == 0 {
				break
			}
			j := newMapJob(f, batch)
			j.left = 1
			j.onFinish = func() {
				select {
				case notify <- struct{}{}:
				default:
				}
			}
			if err := submitJob(p, j, 1, func(int) (int, int) { return 0, len(batch) }); err != nil {
				j.fail(0, len(batch), err) // never submitted: no lock needed
				j.done.Store(true)
			}
			window = append(window, j)
		}
		if len(window) == 0 {
			return
		}
		if err := b.Err(); err != nil {
			var zero R
			yield(zero, fmt.Errorf("procs: waiting for a pool result: %w", err))
			return
		}
		i := -1
		for k, j := range window {
			if j.done.Load() {
				i = k
				break
			}
			if ordered {
				break
			}
		}
		if i < 0 {
			if err := awaitChan(b, notify); err != nil {
				var zero R
				yield(zero, fmt.Errorf("procs: waiting for a pool result: %w", err))
				return
			}
			continue
		}
		j := window[i]
		window = append(window[:i], window[i+1:]...)
		for k := range j.items {
			var err error
			if j.errs != nil {
				err = j.errs[k]
			}
			if !yield(j.results[k], err) {
				return
			}
		}
	}
}

// Args2 and Args3 carry the arguments of functions registered with
// Register2 and Register3 (Python's starmap tuples).
type Args2[A, B any] struct {
	A A
	B B
}

// Args3: see Args2.
type Args3[A, B, C any] struct {
	A A
	B B
	C C
}

// Register2 registers a function of two arguments; it takes them as an
// Args2, in Start, Apply, Map and Starmap alike.
func Register2[A, B, R any](name string, fn func(A, B) (R, error)) *Func[Args2[A, B], R] {
	return Register(name, func(a Args2[A, B]) (R, error) { return fn(a.A, a.B) })
}

// Register3 registers a function of three arguments (see Register2).
func Register3[A, B, C, R any](name string, fn func(A, B, C) (R, error)) *Func[Args3[A, B, C], R] {
	return Register(name, func(a Args3[A, B, C]) (R, error) { return fn(a.A, a.B, a.C) })
}

// Starmap is Map for a function of several arguments (Register2,
// Register3, or any function taking a struct): each item holds one call's
// arguments.
func Starmap[T, R any](p Executor, f *Func[T, R], items []T, chunk int) ([]R, error) {
	return mapBound(futex.Block(), p, f, items, chunk)
}

// StarmapContext is Starmap bounded by ctx, as MapContext is.
func StarmapContext[T, R any](ctx context.Context, p Executor, f *Func[T, R], items []T, chunk int) ([]R, error) {
	return mapBound(futex.WithContext(ctx), p, f, items, chunk)
}

// StarmapTimeout is Starmap bounded by d, as MapTimeout is.
func StarmapTimeout[T, R any](p Executor, f *Func[T, R], items []T, chunk int, d time.Duration) ([]R, error) {
	return mapBound(futex.Within(d), p, f, items, chunk)
}

// StarmapAsync is MapAsync for a function of several arguments.
func StarmapAsync[T, R any](p Executor, f *Func[T, R], items []T, chunk int, opts ...AsyncOption) *AsyncResult[[]R] {
	return MapAsync(p, f, items, chunk, opts...)
}
