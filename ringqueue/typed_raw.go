package ringqueue

import (
	"errors"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/futex"
)

// The raw fast path: a fixed-size T is copied as a T, not as bytes. Its
// single-value half is in typedQueue.put and typedQueue.get (typed_ops.go),
// its batch half below.
//
// Where the time went (issue 15: Typed[T] of 64 bytes at 148 ns a message
// cross-process against the byte API's 73; ~1.3x on a quiet machine
// since), by perf record of both processes of BenchmarkTypedVsBytes and
// go tool objdump of the hot functions:
//
//   - Call depth. The Try, Context and Timeout forms went through a
//     re-dispatch on the form to the byte API's public shells, two calls
//     more than the byte API (the blocking Put and Get had been special-
//     cased straight to the byte call, so they were as deep already).
//   - The copy. copy() through a []byte view of the T is a call to
//     runtime.memmove per message on each side; an assignment of a T
//     compiles to four 16-byte moves inline.
//   - Batches went through the byte PutBatchFunc and GetBatch: a closure
//     call per message (indirect, plus memmove), and a deferred cleanup
//     per chunk that guards user code a typed copy never runs.
//   - The benchmark, both ends. Its typed consumer passed each 64-byte
//     value by value to its order check, a copy the byte consumer did not
//     make (now a pointer). Its typed producer sets v.Seq (an 8-byte
//     store) and passes v by value; the argument's copy reads v back at
//     once with 16-byte loads, which store forwarding cannot serve, so it
//     waits for the store to retire: 79% of the producer loop's samples
//     sit on that first load. The byte producer's memmove reads its
//     buffer late enough not to wait. That one is the caller's, and real
//     (a Put of a value just filled in pays it): the single-ahead rows of
//     BenchmarkTypedVsBytes fill values four messages ahead to show the
//     API's cost without it.
//   - The rest is the ring's regime: the index updates (spscPutEnd's CAS,
//     spscGetEnd's store, MPMC's claims) are most of both profiles, and
//     cost more or less with how the two sides meet on the index lines.
//
// What changed: put and get do the raw copy themselves, through the SPSC
// fast path's two halves (spscPutBegin/End, spscGetBegin/End in spsc.go,
// which the byte put and get use too) or the byte API's claim, publish
// and release, so a typed call is as deep as a byte call; the copy is an
// assignment of a T (rawAt); raw batches claim a run, copy in a loop and
// publish or release it, with no closure and no defer. No allocation, no
// interface call.
//
// Measured on the shared 2-vCPU VM (load 7-25 from other jobs), as CPU
// time per message (cpu-ns/op: both processes cross-process; a
// descheduled process adds wall time, not CPU, and wall time varied 2x
// between runs), typed/bytes as the ratio of the medians of 8 runs (6 for
// single-ahead) alternating between the APIs, before (main at 8432093)
// and after, each with today's benchmark code:
//
//	                            before  after
//	in-process   SPSC single     0.97   0.89   BenchmarkTypedPutGet
//	             MPMC single     0.97   1.00
//	             SPSC batch64    0.91   0.41   BenchmarkTypedBatch64B
//	             MPMC batch64    0.97   0.73
//	cross-proc   SPSC single     1.22   1.03   BenchmarkTypedVsBytes
//	             MPMC single     1.16   1.10
//	             SPSC single-ahead      1.01
//	             MPMC single-ahead      1.01
//	             SPSC batch64    1.04   0.66
//	             MPMC batch64    0.87   0.87
//
// Run to run, the cross-process ratios moved by about 0.1: check the
// single rows on a quiet machine.

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
