package ringqueue

import "hash/fnv"

// Exported for the external tests (typed_procs_test.go).

// TypedDefsHash hashes the gob type definitions that q's message for v
// carries: equal hashes mean equal type ids.
func TypedDefsHash[T any](q *Typed[T], v T) (uint64, error) {
	e, msg, err := q.gob.encode(&v)
	if err != nil {
		return 0, err
	}
	defer q.gob.done(e)
	n, err := gobDefsLen(msg)
	h := fnv.New64a()
	_, _ = h.Write(msg[:n])
	return h.Sum64(), err
}
