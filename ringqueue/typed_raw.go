package ringqueue

import "github.com/multiproc-go/multiproc/internal/futex"

// The raw fast path: a fixed-size T is copied as its bytes.

// getRaw is a raw get: the byte get copies the message straight into *v.
func (q *typedQueue[T]) getRaw(b futex.Bound, v *T) error {
	n, err := q.q.get(b, q.bytesOf(v))
	if err == nil && n == q.ti.size {
		return nil
	}
	return q.rawFailed(b, v, n, err)
}

// getBatchRaw is a raw get batch: each message is copied into dst in
// order; one of another length is consumed and reported.
func (q *typedQueue[T]) getBatchRaw(b futex.Bound, dst []T) (int, error) {
	n := 0
	var derr error
	size := q.ti.size
	_, err := q.q.getBatch(b, len(dst), func(msg []byte) {
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

// putBatchRaw is a raw put batch.
func (q *typedQueue[T]) putBatchRaw(b futex.Bound, vs []T) (int, error) {
	return q.q.putBatch(b, len(vs), func(i int, slot []byte) int {
		return copy(slot, q.bytesOf(&vs[i]))
	})
}
