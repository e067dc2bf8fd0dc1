package ringqueue

import (
	"context"
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// Every typed call is a one-line shell over one internal entry per
// operation (put, get, putBatch, getBatch) that takes the futex.Bound of
// its form, as the byte API's shells do:
//
//	X()             x(futex.Block())
//	TryX()          x(futex.NoWait())
//	XContext(ctx)   x(futex.WithContext(ctx))
//	XTimeout(d)     x(timeoutBound(d))
//
// and each entry hands that bound on to the byte queue's own entry
// (q.put, q.get, q.take, q.putBatch, q.getBatch): the typed layer adds
// the encoding and nothing to the waiting.

// put is every put form: it puts *v within b. v is only read. The raw
// copy is done here, not a call away (typed_raw.go says why).
func (q *typedQueue[T]) put(b futex.Bound, v *T) error {
	if q.gob != nil {
		return q.putGob(b, v)
	}
	bq, size := q.q, uint32(q.ti.size)
	if bq.g.mode == SPSC {
		if s, t, ok := bq.spscPutBegin(); ok {
			*(*uint32)(s) = size
			*rawAt[T](bq, s) = *v
			if bq.spscPutEnd(t) {
				return nil
			}
		}
	}
	pos, _, err := bq.claimPut(b, 1)
	if err != nil {
		return err
	}
	s := bq.slot(pos)
	*bq.slotLen(s) = size
	*rawAt[T](bq, s) = *v
	return bq.publish(pos, 1)
}

// putGob encodes *v and puts the encoding.
func (q *typedQueue[T]) putGob(b futex.Bound, v *T) error {
	e, msg, err := q.gob.encode(v)
	if err != nil {
		return fmt.Errorf("ringqueue %q: put: gob: %w", q.q.Name(), err)
	}
	defer q.gob.done(e)
	if len(msg) > q.q.SlotSize() {
		return q.gobTooLarge("put", len(msg))
	}
	return q.q.put(b, msg)
}

func (q *typedQueue[T]) gobTooLarge(op string, n int) error {
	return fmt.Errorf("ringqueue %q: %s: %w: gob encoding of %s is %d bytes, slot size %d",
		q.q.Name(), op, ErrTooLarge, q.ti.typ, n, q.q.SlotSize())
}

// get is every get form: it takes one message within b and decodes it.
//
// Raw: the message is copied out of the slot into v as a T, here rather
// than a call away (typed_raw.go). A message of another length (only a
// byte Put through Queue() or corrupt memory writes one: the slots are
// sizeof(T)) is consumed and reported, and v is zero, so that it cannot
// block the queue.
func (q *typedQueue[T]) get(b futex.Bound) (v T, err error) {
	if q.gob != nil {
		return q.getGob(b)
	}
	bq, size := q.q, uint32(q.ti.size)
	if bq.g.mode == SPSC {
		if s, h, ok := bq.spscGetBegin(); ok && *(*uint32)(s) == size {
			v = *rawAt[T](bq, s)
			bq.spscGetEnd(h)
			return v, nil
		}
	}
	pos, _, err := bq.claimGet(b, 1, -1)
	if err != nil {
		return v, err
	}
	s := bq.slot(pos)
	if n := *bq.slotLen(s); n == size {
		v = *rawAt[T](bq, s)
	} else {
		err = q.rawBad("get", pos, n)
	}
	if rerr := bq.release(pos, 1); err == nil {
		err = rerr
	}
	return v, err
}

// getGob takes a message and decodes it. The decode runs user code
// (GobDecode methods) on bytes another process wrote; a panic there is
// turned into an error by gobCodec.decode, so Release always runs and the
// slot is never left claimed by this live process (which nobody would
// ever reclaim: the ring would wedge).
func (q *typedQueue[T]) getGob(b futex.Bound) (v T, err error) {
	m, err := q.q.take(b)
	if err != nil {
		return v, err
	}
	err = q.decodeInto(&v, m.Bytes(), "get")
	if rerr := m.Release(); err == nil {
		err = rerr
	}
	return v, err
}

func (q *typedQueue[T]) badLen(op string, n int) error {
	return fmt.Errorf("ringqueue %q: %s: %w: message of %d bytes in a queue of %d-byte %s",
		q.q.Name(), op, shm.ErrCorrupt, n, q.ti.size, q.ti.typ)
}

// decodeInto decodes one gob message (in its slot) into *v.
func (q *typedQueue[T]) decodeInto(v *T, msg []byte, op string) error {
	if err := q.gob.decode(v, msg); err != nil {
		return fmt.Errorf("ringqueue %q: %s: %w: %s: %w", q.q.Name(), op, ErrDecode, q.ti.typ, err)
	}
	return nil
}

// Get removes and returns the next value, waiting while the queue is
// empty. Once the queue is closed and drained it fails with ErrClosed.
func (q *typedQueue[T]) Get() (T, error) { return q.get(futex.Block()) }

// TryGet is Get without waiting: ErrEmpty when no value is ready.
func (q *typedQueue[T]) TryGet() (T, error) { return q.get(futex.NoWait()) }

// GetContext is Get that gives up when ctx ends, returning its error (wrapped).
func (q *typedQueue[T]) GetContext(ctx context.Context) (T, error) {
	return q.get(futex.WithContext(ctx))
}

// GetTimeout is Get that gives up after d with an error that is both
// ErrTimeout and ErrEmpty.
func (q *typedQueue[T]) GetTimeout(d time.Duration) (T, error) { return q.get(timeoutBound(d)) }

// getBatch is every get-batch form: it fills dst from up to len(dst)
// messages taken at once within b.
func (q *typedQueue[T]) getBatch(b futex.Bound, dst []T) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	if q.gob == nil {
		return q.getBatchRaw(b, dst)
	}
	n := 0
	var derr error
	_, err := q.q.getBatch(b, len(dst), func(msg []byte) {
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
func (q *typedQueue[T]) GetBatch(dst []T) (int, error) { return q.getBatch(futex.Block(), dst) }

// TryGetBatch is GetBatch without waiting: ErrEmpty when no value is ready.
func (q *typedQueue[T]) TryGetBatch(dst []T) (int, error) { return q.getBatch(futex.NoWait(), dst) }

// GetBatchContext is GetBatch bounded by ctx.
func (q *typedQueue[T]) GetBatchContext(ctx context.Context, dst []T) (int, error) {
	return q.getBatch(futex.WithContext(ctx), dst)
}

// GetBatchTimeout is GetBatch bounded by d (ErrTimeout, ErrEmpty).
func (q *typedQueue[T]) GetBatchTimeout(dst []T, d time.Duration) (int, error) {
	return q.getBatch(timeoutBound(d), dst)
}

// putBatch is every put-batch form: it puts vs in order within b and
// returns how many it put.
func (q *typedQueue[T]) putBatch(b futex.Bound, vs []T) (int, error) {
	if len(vs) == 0 {
		return 0, nil
	}
	if q.gob == nil {
		return q.putBatchRaw(b, vs)
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
	return q.q.putBatch(b, len(msgs), func(i int, slot []byte) int { return copy(slot, msgs[i]) })
}

// Put puts v at the tail, waiting while the queue is full. It fails with
// ErrClosed once the queue is closed, and for a gob queue with ErrTooLarge
// (nothing queued) when v's encoding is longer than a slot.
func (q *Typed[T]) Put(v T) error { return q.put(futex.Block(), &v) }

// TryPut is Put without waiting: ErrFull when no slot is free.
func (q *Typed[T]) TryPut(v T) error { return q.put(futex.NoWait(), &v) }

// PutContext is Put that gives up when ctx ends, returning its error
// (wrapped); v is then not queued.
func (q *Typed[T]) PutContext(ctx context.Context, v T) error {
	return q.put(futex.WithContext(ctx), &v)
}

// PutTimeout is Put that gives up after d with an error that is both
// ErrTimeout and ErrFull; v is then not queued.
func (q *Typed[T]) PutTimeout(v T, d time.Duration) error { return q.put(timeoutBound(d), &v) }

// PutBatch puts every value of vs, in order, waiting for room as needed,
// with one index update per run of free slots, and returns how many it
// put. For a gob queue, a value that cannot be encoded or is too large
// fails the batch before anything is queued. If the queue is closed
// midway, the values put so far stay queued.
func (q *Typed[T]) PutBatch(vs []T) (int, error) { return q.putBatch(futex.Block(), vs) }

// TryPutBatch puts as many values of vs, from the first, as there is room
// for now and returns how many; none is ErrFull.
func (q *Typed[T]) TryPutBatch(vs []T) (int, error) { return q.putBatch(futex.NoWait(), vs) }

// PutBatchContext is PutBatch bounded by ctx: it returns the count put
// before ctx ended, and ctx's error.
func (q *Typed[T]) PutBatchContext(ctx context.Context, vs []T) (int, error) {
	return q.putBatch(futex.WithContext(ctx), vs)
}

// PutBatchTimeout is PutBatch bounded by d for the whole batch
// (ErrTimeout, ErrFull, with the count put before).
func (q *Typed[T]) PutBatchTimeout(vs []T, d time.Duration) (int, error) {
	return q.putBatch(timeoutBound(d), vs)
}
