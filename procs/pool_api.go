package procs

import (
	"context"
	"iter"
	"slices"
)

// Submitting work to a Pool. These are functions, not methods, because
// they are generic in the function's argument and result types (Go
// methods cannot have type parameters). They take any Executor: a *Pool,
// or a pool whose workers are elsewhere (distpool's, on other machines).
//
// Python → procs:
//
//	pool.apply(f, (x,))                procs.Apply(pool, f, x)
//	pool.apply_async(f, (x,), cb, ecb) procs.ApplyAsync(pool, f, x, procs.OnResult(cb), procs.OnError(ecb))
//	pool.map(f, xs, chunksize)         procs.Map(pool, f, xs, chunk)
//	pool.map_async(f, xs)              procs.MapAsync(pool, f, xs, 0)
//	pool.imap(f, xs)                   for r, err := range procs.Imap(pool, f, slices.Values(xs), 1)
//	pool.imap_unordered(f, xs)         procs.ImapUnordered(pool, f, slices.Values(xs), 1)
//	pool.starmap(g, [(a, b), ...])     procs.Starmap(pool, g, []procs.Args2[A, B]{{a, b}, ...}, 0), g from Register2
//	pool.close(); pool.join()          pool.Close(); pool.Join()
//	pool.terminate(), with Pool() as p pool.Terminate(), defer pool.Terminate()

// Apply runs f(arg) in a worker and returns its result.
func Apply[A, R any](p Executor, f *Func[A, R], arg A) (R, error) {
	return ApplyAsync(p, f, arg).Get()
}

// ApplyContext is Apply that returns ctx.Err() when ctx ends first. A task
// not yet sent to a worker is then dropped; one running goes on.
func ApplyContext[A, R any](ctx context.Context, p Executor, f *Func[A, R], arg A) (R, error) {
	r, j := applyAsync(p, f, arg, nil)
	v, err := r.GetContext(ctx)
	if err != nil && ctx.Err() != nil {
		j.cancel.Store(true)
	}
	return v, err
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
	return MapAsync(p, f, items, chunk).Get()
}

// MapAsync is Map that returns at once (see ApplyAsync for callbacks,
// which take the whole []R).
func MapAsync[A, R any](p Executor, f *Func[A, R], items []A, chunk int, opts ...AsyncOption) *AsyncResult[[]R] {
	cb := collectCallbacks[[]R](opts)
	r := newAsyncResult[[]R]()
	if len(items) == 0 {
		complete(p, func() { r.set([]R{}, nil, cb) }, cb.any())
		return r
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
	return r
}

// Imap runs f on the items as the loop asks for results, chunk items per
// task (chunk <= 0: 1), and yields the results in the items' order, each
// with its own error. It reads items ahead of the loop by a bounded
// window, not all at once; breaking out of the loop drops the tasks not
// yet sent. Errors of the pool itself (closed, terminated) come as the
// error of every remaining item.
func Imap[A, R any](p Executor, f *Func[A, R], items iter.Seq[A], chunk int) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) { runStream(p, f, items, chunk, true, yield) }
}

// ImapUnordered is Imap yielding results as they come, in any order.
func ImapUnordered[A, R any](p Executor, f *Func[A, R], items iter.Seq[A], chunk int) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) { runStream(p, f, items, chunk, false, yield) }
}

func runStream[A, R any](p Executor, f *Func[A, R], items iter.Seq[A], chunk int, ordered bool, yield func(R, error) bool) {
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
			<-notify
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
	return Map(p, f, items, chunk)
}

// StarmapAsync is MapAsync for a function of several arguments.
func StarmapAsync[T, R any](p Executor, f *Func[T, R], items []T, chunk int, opts ...AsyncOption) *AsyncResult[[]R] {
	return MapAsync(p, f, items, chunk, opts...)
}
