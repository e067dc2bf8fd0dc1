package ringqueue_test

import (
	"errors"
	"fmt"
	. "github.com/multiproc-go/multiproc/ringqueue"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// produceTest puts messages [0, n) of producer p, mixing the put forms.
func produceTest(q *Queue, p uint32, n int) error {
	buf := make([]byte, testMsgMax)
	batch := make([][]byte, 0, 16)
	backing := make([]byte, 16*testMsgMax)
	for s := 0; s < n; {
		switch s % 5 {
		case 0, 1: // single put
			m := encodeTestMsg(buf, p, uint32(s))
			if err := q.Put(buf[:m]); err != nil {
				return fmt.Errorf("producer %d put %d: %w", p, s, err)
			}
			s++
		case 2: // zero-copy
			r, err := q.Reserve(testMsgMax)
			if err != nil {
				return fmt.Errorf("producer %d reserve %d: %w", p, s, err)
			}
			m := encodeTestMsg(r.Bytes(), p, uint32(s))
			if err := r.Commit(m); err != nil {
				return err
			}
			s++
		case 3: // batch
			batch = batch[:0]
			for i := 0; i < 16 && s+i < n; i++ {
				b := backing[i*testMsgMax : (i+1)*testMsgMax]
				batch = append(batch, b[:encodeTestMsg(b, p, uint32(s+i))])
			}
			k, err := q.PutBatch(batch)
			s += k
			if err != nil {
				return fmt.Errorf("producer %d put batch at %d: %w", p, s, err)
			}
		case 4: // batch func
			want := min(8, n-s)
			k, err := q.PutBatchFunc(want, func(i int, slot []byte) int { return encodeTestMsg(slot, p, uint32(s+i)) })
			s += k
			if err != nil {
				return fmt.Errorf("producer %d put batch func at %d: %w", p, s, err)
			}
		}
	}
	return nil
}

// consumeBatch is the largest batch consumeTest takes at once.
const consumeBatch = 32

// consumeTest gets messages until the queue is closed and drained,
// mixing the get forms, and records them in l.
func consumeTest(q *Queue, l *ledger, id int) (int, error) {
	buf := make([]byte, q.SlotSize())
	got := 0
	var bad error
	for i := 0; ; i++ {
		var err error
		switch i % 3 {
		case 0:
			var n int
			n, err = q.Get(buf)
			if err == nil {
				got++
				if rerr := l.record(buf[:n]); rerr != nil && bad == nil {
					bad = rerr
				}
			}
		case 1:
			var m Message
			m, err = q.Take()
			if err == nil {
				got++
				if rerr := l.record(m.Bytes()); rerr != nil && bad == nil {
					bad = rerr
				}
				err = m.Release()
			}
		case 2:
			var k int
			k, err = q.GetBatch(consumeBatch, func(msg []byte) {
				if rerr := l.record(msg); rerr != nil && bad == nil {
					bad = rerr
				}
			})
			got += k
		}
		if errors.Is(err, ErrClosed) {
			return got, bad
		}
		if err != nil {
			return got, fmt.Errorf("consumer %d: %w", id, err)
		}
	}
}

func TestGoroutinesMPMCDeliverEachMessageExactlyOnce(t *testing.T) {
	testGoroutinesExactlyOnce(t, MPMC, 4, 4, 20000)
}

func TestGoroutinesSPSCDeliverEachMessageExactlyOnce(t *testing.T) {
	testGoroutinesExactlyOnce(t, SPSC, 1, 1, 50000)
}

func testGoroutinesExactlyOnce(t *testing.T, mode Mode, producers, consumers, perProd int) {
	o := Options{Capacity: 64, SlotSize: testMsgMax, Mode: mode}
	size, err := Size(o)
	require.NoError(t, err)
	seg := newSeg(t, size+ledgerSize(producers, perProd)+4096)
	q, err := New(seg, "q", o)
	require.NoError(t, err)
	l, err := newLedger(seg, "ledger", producers, perProd)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, producers+consumers)
	for c := 0; c < consumers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := consumeTest(q, l, c); err != nil {
				errs <- err
			}
		}()
	}
	var pwg sync.WaitGroup
	for p := 0; p < producers; p++ {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			if err := produceTest(q, uint32(p), perProd); err != nil {
				errs <- err
			}
		}()
	}
	pwg.Wait()
	require.NoError(t, q.Close())
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for p := 0; p < producers; p++ {
		require.Zero(t, l.missing(uint32(p), perProd), "producer %d", p)
	}
	require.Zero(t, *l.dups)
	require.Zero(t, *l.bad)
	require.Equal(t, 0, q.Len())
}
