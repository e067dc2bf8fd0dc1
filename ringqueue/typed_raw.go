package ringqueue

import (
	"errors"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// The raw fast path: a fixed-size T is copied as a T, not as bytes.
//
// (PROFILE NOTES GO HERE)

// rawAt views the payload of slot s as a T. The payload is 8-byte
// aligned (layout.go), which is every Go type's alignment on the 64-bit
// platforms the package runs on; a raw T holds no pointers, so the copy
// needs no write barrier.
func rawAt[T any](q *Queue, s unsafe.Pointer) *T {
	return (*T)(unsafe.Add(s, q.g.slotHeader))
}

// rawBad reports a message of n bytes at pos in a queue of T.
func (q *typedQueue[T]) rawBad(op string, pos uint64, n uint32) error {
	if n > uint32(q.q.g.slotSize) {
		return q.q.corrupt(op, pos)
	}
	return q.badLen(op, int(n))
}

// getBatchRaw is a raw get batch: up to len(dst) messages claimed at
// once, copied into dst in order, released at once. A message of another
// length is consumed, left out and reported after the others are stored.
// No user code runs while the claims are held, so unlike the byte
// GetBatch nothing needs guarding against a panic or a re-entrant get.
func (q *typedQueue[T]) getBatchRaw(b futex.Bound, dst []T) (int, error) {
	bq, size := q.q, uint32(q.ti.size)
	pos, k, err := bq.claimGet(b, len(dst), -1)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range uint64(k) {
		s := bq.slot(pos + i)
		if l := *bq.slotLen(s); l != size {
			if err == nil {
				err = q.rawBad("get batch", pos+i, l)
			}
			continue
		}
		dst[n] = *rawAt[T](bq, s)
		n++
	}
	if rerr := bq.release(pos, k); err == nil {
		err = rerr
	}
	return n, err
}

// putBatchRaw is a raw put batch: each run of free slots is claimed at
// once, filled with typed copies and published at once. As in
// getBatchRaw, no user code runs while claims are held.
func (q *typedQueue[T]) putBatchRaw(b futex.Bound, vs []T) (int, error) {
	bq, size := q.q, uint32(q.ti.size)
	done := 0
	for done < len(vs) {
		pos, k, err := bq.claimPut(b, len(vs)-done)
		if err != nil {
			if b.Try() && done > 0 && errors.Is(err, ErrFull) {
				return done, nil
			}
			return done, err
		}
		for i := range k {
			s := bq.slot(pos + uint64(i))
			*bq.slotLen(s) = size
			*rawAt[T](bq, s) = vs[done+i]
		}
		if err := bq.publish(pos, k); err != nil {
			return done, err
		}
		done += k
	}
	return done, nil
}
