package ringqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/shm"
)

// The typed calls are the byte calls: typedWait carries which of the four
// forms (blocking, Try, Context, Timeout) the caller used down to the one
// helper that encodes or decodes, and back to the matching byte call. It
// is a small value: passing a context in it allocates nothing.
type typedWait struct {
	form typedForm
	ctx  context.Context
	d    time.Duration
}

type typedForm uint8

const (
	formBlock typedForm = iota
	formTry
	formContext
	formTimeout
)

var (
	typedBlock = typedWait{form: formBlock}
	typedTry   = typedWait{form: formTry}
)

func typedWaitCtx(ctx context.Context) typedWait { return typedWait{form: formContext, ctx: ctx} }
func typedWaitFor(d time.Duration) typedWait     { return typedWait{form: formTimeout, d: d} }

func (w typedWait) put(q *Queue, msg []byte) error {
	switch w.form {
	case formTry:
		return q.TryPut(msg)
	case formContext:
		return q.PutContext(w.ctx, msg)
	case formTimeout:
		return q.PutTimeout(msg, w.d)
	}
	return q.Put(msg)
}

func (w typedWait) take(q *Queue) (Message, error) {
	switch w.form {
	case formTry:
		return q.TryTake()
	case formContext:
		return q.TakeContext(w.ctx)
	case formTimeout:
		return q.TakeTimeout(w.d)
	}
	return q.Take()
}

func (w typedWait) putBatchFunc(q *Queue, n int, fill func(i int, slot []byte) int) (int, error) {
	switch w.form {
	case formTry:
		return q.TryPutBatchFunc(n, fill)
	case formContext:
		return q.PutBatchFuncContext(w.ctx, n, fill)
	case formTimeout:
		// The byte API has no PutBatchFuncTimeout (REQUESTS-typed.md): bound
		// the batch with a context of our own and report its deadline as
		// the byte API reports a timeout.
		ctx, cancel := context.WithTimeout(context.Background(), max(w.d, 0))
		defer cancel()
		k, err := q.PutBatchFuncContext(ctx, n, fill)
		if err != nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("ringqueue %q: put batch: %w: %w", q.Name(), ErrTimeout, ErrFull)
		}
		return k, err
	}
	return q.PutBatchFunc(n, fill)
}

func (w typedWait) getBatch(q *Queue, max int, fn func(msg []byte)) (int, error) {
	switch w.form {
	case formTry:
		return q.TryGetBatch(max, fn)
	case formContext:
		return q.GetBatchContext(w.ctx, max, fn)
	case formTimeout:
		return q.GetBatchTimeout(max, fn, w.d)
	}
	return q.GetBatch(max, fn)
}

// put puts *v in the form w asks. v is only read.
func (q *typedQueue[T]) put(w typedWait, v *T) error {
	if q.gob == nil {
		return w.put(q.q, q.bytesOf(v))
	}
	e, msg, err := q.gob.encode(v)
	if err != nil {
		return fmt.Errorf("ringqueue %q: put: gob: %w", q.q.Name(), err)
	}
	defer q.gob.done(e)
	if len(msg) > q.q.SlotSize() {
		return q.gobTooLarge("put", len(msg))
	}
	return w.put(q.q, msg)
}

func (q *typedQueue[T]) gobTooLarge(op string, n int) error {
	return fmt.Errorf("ringqueue %q: %s: %w: gob encoding of %s is %d bytes, slot size %d",
		q.q.Name(), op, ErrTooLarge, q.ti.typ, n, q.q.SlotSize())
}

func (w typedWait) get(q *Queue, buf []byte) (int, error) {
	switch w.form {
	case formTry:
		return q.TryGet(buf)
	case formContext:
		return q.GetContext(w.ctx, buf)
	case formTimeout:
		return q.GetTimeout(buf, w.d)
	}
	return q.Get(buf)
}

// get takes one message in the form w asks and decodes it.
//
// Raw: the byte Get copies the message straight into v, which is the
// byte API's own path (for SPSC its one-piece fast path) and nothing
// else. Where the time went before (issue 15: Typed 148 ns against the
// byte API's 73 ns, 64-byte T, cross-process), by profile (go test
// -cpuprofile for the consumer, perf record for both processes):
//   - Get was Take, decode, Release: Take cannot use the SPSC fast path,
//     and the held-message bookkeeping, the Message value and a second
//     call per value add up on a path of a few tens of nanoseconds.
//   - Each pass of a T by value is a 64-byte copy: helpers take *T.
//   - The benchmark itself: the typed producer built each value through
//     a generic closure returning 64 bytes, a fifth of its time, work the
//     byte producer did not do (BenchmarkTypedVsBytes now fills values
//     as the byte producer fills its buffer).
//   - Cross-process, what remains is the ring's regime: a consumer a
//     little faster than its producer polls Tail more and the producer's
//     publishing CAS waits on the line (95% of spscPutFast's samples),
//     so a cheaper consumer can measure slower. Compare many runs.
//
// Afterwards, in one process (BenchmarkTypedPutGet, medians of 10 runs on
// a loaded 2-vCPU VM): MPMC raw 131 ns against bytes 153; SPSC raw 80
// against bytes 75 (1.07×). The typed layer's own functions are about 3%
// of the profile; the rest is the byte queue's.
//
// Gob: Take, decode from the slot, Release. The decode runs user code
// (GobDecode methods) on bytes another process wrote; a panic there is
// turned into an error by gobCodec.decode, so Release always runs and the
// slot is never left claimed by this live process (which nobody would
// ever reclaim: the ring would wedge).
func (q *typedQueue[T]) get(w typedWait) (v T, err error) {
	if q.gob == nil {
		n, err := w.get(q.q, q.bytesOf(&v))
		if err == nil && n == q.ti.size {
			return v, nil
		}
		return v, q.rawFailed(w, &v, n, err)
	}
	m, err := w.take(q.q)
	if err != nil {
		return v, err
	}
	err = q.decodeInto(&v, m.Bytes(), "get")
	if rerr := m.Release(); err == nil {
		err = rerr
	}
	return v, err
}

// rawFailed finishes a raw get whose byte Get into *v returned n, err
// other than a whole T: it zeroes *v and says why. (Pointers, not values:
// each pass of a T by value is a copy, and copies of a 64-byte T were a
// measurable part of the typed Get's cost.)
func (q *typedQueue[T]) rawFailed(w typedWait, v *T, n int, err error) error {
	var zero T
	*v = zero
	switch {
	case err == nil:
		return q.badLen("get", n)
	case errors.Is(err, ErrShortBuffer):
		// Longer than a T: only corrupt memory or a byte Put through
		// Queue() writes that. Consume it, as gob does a message it
		// cannot read, so that it does not block the queue.
		return q.dropBad(w)
	}
	return err
}

// dropBad takes the next message, which is not a T, and reports it.
func (q *typedQueue[T]) dropBad(w typedWait) error {
	m, err := w.take(q.q)
	if err != nil {
		return err
	}
	err = q.badLen("get", len(m.Bytes()))
	if rerr := m.Release(); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

func (q *typedQueue[T]) badLen(op string, n int) error {
	return fmt.Errorf("ringqueue %q: %s: %w: message of %d bytes in a queue of %d-byte %s",
		q.q.Name(), op, shm.ErrCorrupt, n, q.ti.size, q.ti.typ)
}

// decodeInto decodes one message (in its slot) into *v.
func (q *typedQueue[T]) decodeInto(v *T, msg []byte, op string) error {
	if q.gob == nil {
		if len(msg) != q.ti.size {
			return q.badLen(op, len(msg))
		}
		copy(q.bytesOf(v), msg)
		return nil
	}
	if err := q.gob.decode(v, msg); err != nil {
		return fmt.Errorf("ringqueue %q: %s: %w: %s: %w", q.q.Name(), op, ErrDecode, q.ti.typ, err)
	}
	return nil
}

// Get removes and returns the next value, waiting while the queue is
// empty. Once the queue is closed and drained it fails with ErrClosed.
func (q *typedQueue[T]) Get() (v T, err error) {
	if q.gob == nil {
		// The common call straight to the byte call (see get): one call
		// level and the form switch less on a path of tens of nanoseconds.
		n, err := q.q.Get(q.bytesOf(&v))
		if err == nil && n == q.ti.size {
			return v, nil
		}
		return v, q.rawFailed(typedBlock, &v, n, err)
	}
	return q.get(typedBlock)
}

// TryGet is Get without waiting: ErrEmpty when no value is ready.
func (q *typedQueue[T]) TryGet() (T, error) { return q.get(typedTry) }

// GetContext is Get that gives up when ctx ends, returning its error (wrapped).
func (q *typedQueue[T]) GetContext(ctx context.Context) (T, error) { return q.get(typedWaitCtx(ctx)) }

// GetTimeout is Get that gives up after d with an error that is both
// ErrTimeout and ErrEmpty.
func (q *typedQueue[T]) GetTimeout(d time.Duration) (T, error) { return q.get(typedWaitFor(d)) }

// getBatch fills dst from up to len(dst) messages taken at once.
func (q *typedQueue[T]) getBatch(w typedWait, dst []T) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	n := 0
	var derr error
	if q.gob == nil {
		// Raw: the copy inline (decodeInto's call and checks per value
		// showed in a profile of a 64-byte T batch; this is all it does).
		size := q.ti.size
		_, err := w.getBatch(q.q, len(dst), func(msg []byte) {
			if len(msg) != size {
				if derr == nil {
					derr = q.badLen("get batch", len(msg))
				}
				return
			}
			copy(q.bytesOf(&dst[n]), msg)
			n++
		})
		if err == nil {
			err = derr
		}
		return n, err
	}
	_, err := w.getBatch(q.q, len(dst), func(msg []byte) {
		if e := q.decodeInto(&dst[n], msg, "get batch"); e != nil {
			// Consumed and reported; the batch goes on with the next.
			var zero T
			dst[n] = zero
			if derr == nil {
				derr = e
			}
			return
		}
		n++
	})
	if err == nil {
		err = derr
	}
	return n, err
}

// GetBatch waits for at least one value, then removes up to len(dst)
// values at once (one index update), stores them in dst in order and
// returns how many. Once the queue is closed and drained it fails with
// ErrClosed. A message that cannot be decoded is consumed, left out of dst
// and reported after the others are stored.
func (q *typedQueue[T]) GetBatch(dst []T) (int, error) { return q.getBatch(typedBlock, dst) }

// TryGetBatch is GetBatch without waiting: ErrEmpty when no value is ready.
func (q *typedQueue[T]) TryGetBatch(dst []T) (int, error) { return q.getBatch(typedTry, dst) }

// GetBatchContext is GetBatch bounded by ctx.
func (q *typedQueue[T]) GetBatchContext(ctx context.Context, dst []T) (int, error) {
	return q.getBatch(typedWaitCtx(ctx), dst)
}

// GetBatchTimeout is GetBatch bounded by d (ErrTimeout, ErrEmpty).
func (q *typedQueue[T]) GetBatchTimeout(dst []T, d time.Duration) (int, error) {
	return q.getBatch(typedWaitFor(d), dst)
}

// putBatch puts vs in order in the form w asks and returns how many it put.
func (q *typedQueue[T]) putBatch(w typedWait, vs []T) (int, error) {
	if len(vs) == 0 {
		return 0, nil
	}
	if q.gob == nil {
		return w.putBatchFunc(q.q, len(vs), func(i int, slot []byte) int {
			return copy(slot, q.bytesOf(&vs[i]))
		})
	}
	// Gob: encode everything first, so that an unencodable or too large
	// value fails the batch before anything is queued (as the byte
	// PutBatch does), then copy the encodings into the slots.
	msgs, err := q.gob.encodeAll(vs)
	if err != nil {
		return 0, fmt.Errorf("ringqueue %q: put batch: gob: %w", q.q.Name(), err)
	}
	for _, m := range msgs {
		if len(m) > q.q.SlotSize() {
			return 0, q.gobTooLarge("put batch", len(m))
		}
	}
	return w.putBatchFunc(q.q, len(msgs), func(i int, slot []byte) int { return copy(slot, msgs[i]) })
}

// Put puts v at the tail, waiting while the queue is full. It fails with
// ErrClosed once the queue is closed, and for a gob queue with ErrTooLarge
// (nothing queued) when v's encoding is longer than a slot.
func (q *Typed[T]) Put(v T) error {
	if q.gob == nil {
		return q.q.Put(q.bytesOf(&v)) // as Get: straight to the byte call
	}
	return q.put(typedBlock, &v)
}

// TryPut is Put without waiting: ErrFull when no slot is free.
func (q *Typed[T]) TryPut(v T) error { return q.put(typedTry, &v) }

// PutContext is Put that gives up when ctx ends, returning its error
// (wrapped); v is then not queued.
func (q *Typed[T]) PutContext(ctx context.Context, v T) error { return q.put(typedWaitCtx(ctx), &v) }

// PutTimeout is Put that gives up after d with an error that is both
// ErrTimeout and ErrFull; v is then not queued.
func (q *Typed[T]) PutTimeout(v T, d time.Duration) error { return q.put(typedWaitFor(d), &v) }

// PutBatch puts every value of vs, in order, waiting for room as needed,
// with one index update per run of free slots, and returns how many it
// put. For a gob queue, a value that cannot be encoded or is too large
// fails the batch before anything is queued. If the queue is closed
// midway, the values put so far stay queued.
func (q *Typed[T]) PutBatch(vs []T) (int, error) { return q.putBatch(typedBlock, vs) }

// TryPutBatch puts as many values of vs, from the first, as there is room
// for now and returns how many; none is ErrFull.
func (q *Typed[T]) TryPutBatch(vs []T) (int, error) { return q.putBatch(typedTry, vs) }

// PutBatchContext is PutBatch bounded by ctx: it returns the count put
// before ctx ended, and ctx's error.
func (q *Typed[T]) PutBatchContext(ctx context.Context, vs []T) (int, error) {
	return q.putBatch(typedWaitCtx(ctx), vs)
}

// PutBatchTimeout is PutBatch bounded by d for the whole batch
// (ErrTimeout, ErrFull, with the count put before).
func (q *Typed[T]) PutBatchTimeout(vs []T, d time.Duration) (int, error) {
	return q.putBatch(typedWaitFor(d), vs)
}
