package ringqueue

import "sync/atomic"

// Close closes the queue for every process: a Put that starts after Close
// returns fails with ErrClosed, consumers drain the messages already put
// and then get ErrClosed, and every producer and consumer asleep in the
// queue is woken to find out. Close is idempotent and cannot be undone.
// It does not free the queue's memory, which lives as long as its
// segment.
func (q *Queue) Close() error {
	atomic.StoreUint32(&q.lay.Hdr.Closed, 1)
	if q.g.mode == SPSC {
		tail := &q.lay.Tail.Index
		for {
			t := atomic.LoadUint64(tail)
			if t&spscClosedBit != 0 || atomic.CompareAndSwapUint64(tail, t, t|spscClosedBit) {
				break
			}
		}
	}
	// Sleepers re-check after counting themselves (blocking.go), and
	// Closed was stored before the counts are read here: none can sleep
	// through this.
	q.getGate().signalAll()
	q.putGate().signalAll()
	return nil
}

// Closed reports whether Close was called (by any process).
func (q *Queue) Closed() bool { return q.closed() }
