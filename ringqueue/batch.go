package ringqueue

import (
	"context"
	"errors"
	"time"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// Batch forms move many messages per index update: a batch claims as
// many consecutive positions as it can (SPSC: one look at the other side's
// index), fills or reads them all, then publishes (SPSC: one CAS of Tail)
// or releases them (SPSC: one store of Head) and wakes that many sleepers
// with one system call at most.

// PutBatch puts every message of msgs, in order, waiting for room as
// needed, and returns how many it put. A message longer than a slot fails
// the whole batch with ErrTooLarge before anything is queued. If the
// queue is closed midway the messages put so far stay queued.
func (q *Queue) PutBatch(msgs [][]byte) (int, error) {
	return q.putBatchMsgs(futex.Block(), msgs)
}

// TryPutBatch puts as many messages of msgs, from the first, as there is
// room for now, and returns how many; none is ErrFull.
func (q *Queue) TryPutBatch(msgs [][]byte) (int, error) {
	return q.putBatchMsgs(futex.NoWait(), msgs)
}

// PutBatchContext is PutBatch bounded by ctx: it returns the count put
// before ctx ended, and ctx's error.
func (q *Queue) PutBatchContext(ctx context.Context, msgs [][]byte) (int, error) {
	return q.putBatchMsgs(futex.WithContext(ctx), msgs)
}

// PutBatchTimeout is PutBatch bounded by d for the whole batch.
func (q *Queue) PutBatchTimeout(msgs [][]byte, d time.Duration) (int, error) {
	return q.putBatchMsgs(timeoutBound(d), msgs)
}

func (q *Queue) putBatchMsgs(b futex.Bound, msgs [][]byte) (int, error) {
	for _, m := range msgs {
		if len(m) > q.g.slotSize {
			return 0, q.tooLarge("put batch", len(m))
		}
	}
	return q.putBatch(b, len(msgs), func(i int, slot []byte) int { return copyMsg(slot, msgs[i]) })
}

// PutBatchFunc puts n messages, waiting for room as needed: fill writes
// message i into slot (SlotSize bytes, in the queue itself) and returns
// its length (Copy is the fast way to copy a large message in). A length outside 0..SlotSize stops the batch with
// ErrTooLarge: messages before it are put, it and the rest are not.
func (q *Queue) PutBatchFunc(n int, fill func(i int, slot []byte) int) (int, error) {
	return q.putBatch(futex.Block(), n, fill)
}

// TryPutBatchFunc is PutBatchFunc for as many of the n as there is room
// for now; none is ErrFull.
func (q *Queue) TryPutBatchFunc(n int, fill func(i int, slot []byte) int) (int, error) {
	return q.putBatch(futex.NoWait(), n, fill)
}

// PutBatchFuncContext is PutBatchFunc bounded by ctx.
func (q *Queue) PutBatchFuncContext(ctx context.Context, n int, fill func(i int, slot []byte) int) (int, error) {
	return q.putBatch(futex.WithContext(ctx), n, fill)
}

// PutBatchFuncTimeout is PutBatchFunc bounded by d for the whole batch
// (ErrTimeout, ErrFull, with the count put before).
func (q *Queue) PutBatchFuncTimeout(n int, fill func(i int, slot []byte) int, d time.Duration) (int, error) {
	return q.putBatch(timeoutBound(d), n, fill)
}

func (q *Queue) putBatch(b futex.Bound, n int, fill func(i int, slot []byte) int) (int, error) {
	done := 0
	for done < n {
		pos, k, err := q.claimPut(b, n-done)
		if err != nil {
			if b.Try() && done > 0 && errors.Is(err, ErrFull) {
				return done, nil
			}
			return done, err
		}
		bad, badLen := q.fillChunk(pos, k, done, fill)
		if bad >= 0 {
			// Publish the messages before the bad one; give it and the
			// rest up.
			if bad > 0 {
				if err := q.publish(pos, bad); err != nil {
					q.abandon(pos+uint64(bad), k-bad)
					return done, err
				}
			}
			q.abandon(pos+uint64(bad), k-bad)
			return done + bad, q.tooLarge("put batch", badLen)
		}
		if err := q.publish(pos, k); err != nil {
			return done, err
		}
		done += k
	}
	return done, nil
}

// fillChunk fills claimed positions [pos, pos+k) with messages done,
// done+1, ... through fill. It returns the chunk index of the first message
// whose length is out of range, and that length, or -1. If fill panics,
// the chunk's claims are given up before the panic goes on: a live
// process's claims are never reclaimed, so they would hold the ring up
// for good.
func (q *Queue) fillChunk(pos uint64, k, done int, fill func(i int, slot []byte) int) (bad, badLen int) {
	// SPSC: a Put from fill would write the positions being filled.
	spsc := q.g.mode == SPSC
	if spsc {
		q.prod.held, q.prod.heldPos = true, ^uint64(0)
	}
	finished := false
	defer func() {
		if spsc {
			q.prod.held = false
		}
		if !finished {
			q.abandon(pos, k)
		}
	}()
	for i := range k {
		s := q.slot(pos + uint64(i))
		m := fill(done+i, q.payload(s))
		if m < 0 || m > q.g.slotSize {
			finished = true
			return i, m
		}
		*q.slotLen(s) = uint32(m)
	}
	finished = true
	return -1, 0
}

// GetBatch waits for at least one message, then hands up to max messages
// to fn, in order, and returns how many. msg is the slot itself, valid
// only during the call: copy what must outlive it (Copy is the fast way
// for a large message). The slots are freed
// together after the last call (also if fn panics). Once the queue is
// closed and drained it fails with ErrClosed.
func (q *Queue) GetBatch(max int, fn func(msg []byte)) (int, error) {
	return q.getBatch(futex.Block(), max, fn)
}

// TryGetBatch is GetBatch without waiting: no message is ErrEmpty.
func (q *Queue) TryGetBatch(max int, fn func(msg []byte)) (int, error) {
	return q.getBatch(futex.NoWait(), max, fn)
}

// GetBatchContext is GetBatch bounded by ctx.
func (q *Queue) GetBatchContext(ctx context.Context, max int, fn func(msg []byte)) (int, error) {
	return q.getBatch(futex.WithContext(ctx), max, fn)
}

// GetBatchTimeout is GetBatch bounded by d (ErrTimeout, ErrEmpty).
func (q *Queue) GetBatchTimeout(max int, fn func(msg []byte), d time.Duration) (int, error) {
	return q.getBatch(timeoutBound(d), max, fn)
}

func (q *Queue) getBatch(b futex.Bound, max int, fn func(msg []byte)) (n int, err error) {
	if max <= 0 {
		return 0, nil
	}
	pos, k, err := q.claimGet(b, max, -1)
	if err != nil {
		return 0, err
	}
	// SPSC: the messages stay at Head until released, so a Get from fn
	// (or a panic's recovery) must not see them again: hold the side.
	spsc := q.g.mode == SPSC
	if spsc {
		q.cons.held, q.cons.heldPos = true, ^uint64(0)
	}
	released := false
	defer func() {
		if !released {
			if spsc {
				q.cons.held = false
			}
			_ = q.release(pos, k)
		}
	}()
	for i := range k {
		msg, ok := q.read(pos + uint64(i))
		if !ok {
			if err == nil {
				err = q.corrupt("get batch", pos+uint64(i))
			}
			continue
		}
		fn(msg)
	}
	released = true
	if spsc {
		q.cons.held = false
	}
	if rerr := q.release(pos, k); err == nil {
		err = rerr
	}
	return k, err
}
