package ringqueue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// typedForms is every put and get form Typed and Joinable share.
type typedForms[T any] interface {
	Put(T) error
	TryPut(T) error
	PutContext(context.Context, T) error
	PutTimeout(T, time.Duration) error
	PutBatch([]T) (int, error)
	TryPutBatch([]T) (int, error)
	PutBatchContext(context.Context, []T) (int, error)
	PutBatchTimeout([]T, time.Duration) (int, error)
	Get() (T, error)
	TryGet() (T, error)
	GetContext(context.Context) (T, error)
	GetTimeout(time.Duration) (T, error)
	GetBatch([]T) (int, error)
	TryGetBatch([]T) (int, error)
	GetBatchContext(context.Context, []T) (int, error)
	GetBatchTimeout([]T, time.Duration) (int, error)
	Len() int
}

var (
	_ typedForms[int64] = (*Typed[int64])(nil)
	_ typedForms[int64] = (*Joinable[int64])(nil)
)

// TestTypedEveryFormWaitsAsItsBoundSays runs each of the four forms of
// every typed put and get, raw and gob, Typed and Joinable, MPMC and SPSC:
// on a full or empty queue the Try form fails at once, the Timeout form
// after its timeout (ErrTimeout and ErrFull or ErrEmpty), the Context form
// with the context's error, and every waiting form succeeds once the
// other side makes room or a value.
func TestTypedEveryFormWaitsAsItsBoundSays(t *testing.T) {
	for _, mode := range []Mode{MPMC, SPSC} {
		o := Options{Capacity: 2, Mode: mode}
		t.Run(fmt.Sprintf("%v/raw/typed", mode), func(t *testing.T) {
			checkForms(t, newTypedT[tqJob](t, o), func(i int) tqJob { return jobFor(1, uint32(i)) })
		})
		t.Run(fmt.Sprintf("%v/raw/joinable", mode), func(t *testing.T) {
			checkForms(t, newJoinableT[tqJob](t, o), func(i int) tqJob { return jobFor(2, uint32(i)) })
		})
		og := Options{Capacity: 2, Mode: mode, SlotSize: 64}
		t.Run(fmt.Sprintf("%v/gob/typed", mode), func(t *testing.T) {
			checkForms(t, newTypedT[string](t, og), func(i int) string { return fmt.Sprint("v", i) })
		})
		t.Run(fmt.Sprintf("%v/gob/joinable", mode), func(t *testing.T) {
			checkForms(t, newJoinableT[string](t, og), func(i int) string { return fmt.Sprint("j", i) })
		})
	}
}

func checkForms[T comparable](t *testing.T, q typedForms[T], mk func(int) T) {
	const short = 10 * time.Millisecond
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	long, cancelLong := context.WithTimeout(context.Background(), time.Minute) // a safety net
	defer cancelLong()

	// Empty: every get form that may not wait, or not long, fails.
	_, err := q.TryGet()
	assert.ErrorIs(t, err, ErrEmpty)
	_, err = q.GetTimeout(short)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, err, ErrEmpty)
	_, err = q.GetContext(canceled)
	assert.ErrorIs(t, err, context.Canceled)
	dst := make([]T, 4)
	_, err = q.TryGetBatch(dst)
	assert.ErrorIs(t, err, ErrEmpty)
	_, err = q.GetBatchTimeout(dst, short)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, err, ErrEmpty)
	_, err = q.GetBatchContext(canceled, dst)
	assert.ErrorIs(t, err, context.Canceled)

	// Fill it with the single forms, then every put form that may not
	// wait, or not long, fails and queues nothing.
	require.NoError(t, q.TryPut(mk(0)))
	require.NoError(t, q.PutTimeout(mk(1), short))
	assert.ErrorIs(t, q.TryPut(mk(9)), ErrFull)
	err = q.PutTimeout(mk(9), short)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, err, ErrFull)
	assert.ErrorIs(t, q.PutContext(canceled, mk(9)), context.Canceled)
	n, err := q.TryPutBatch([]T{mk(9)})
	assert.ErrorIs(t, err, ErrFull)
	assert.Zero(t, n)
	n, err = q.PutBatchTimeout([]T{mk(9), mk(9)}, short)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, err, ErrFull)
	assert.Zero(t, n)
	n, err = q.PutBatchContext(canceled, []T{mk(9)})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, n)
	assert.Equal(t, 2, q.Len())
	if j, ok := q.(interface{ Unfinished() int }); ok {
		assert.Equal(t, 2, j.Unfinished(), "failed puts are not counted")
	}

	// The waiting put forms, each blocked on the full queue, go through
	// once a get makes room; the values arrive in order.
	puts := []func(T) error{
		q.Put,
		func(v T) error { return q.PutContext(long, v) },
		func(v T) error { return q.PutTimeout(v, time.Minute) },
		func(v T) error { _, err := q.PutBatch([]T{v}); return err },
		func(v T) error { _, err := q.PutBatchContext(long, []T{v}); return err },
		func(v T) error { _, err := q.PutBatchTimeout([]T{v}, time.Minute); return err },
	}
	want := 0
	for i, put := range puts {
		done := make(chan error, 1)
		go func() { done <- put(mk(2 + i)) }()
		v, err := q.Get()
		require.NoError(t, err)
		assert.Equal(t, mk(want), v)
		want++
		select {
		case err := <-done:
			require.NoError(t, err, "put form %d", i)
		case <-time.After(time.Minute):
			t.Fatalf("put form %d did not go through once there was room", i)
		}
	}
	// Drain the two left with the Try forms.
	for range 2 {
		v, err := q.TryGet()
		require.NoError(t, err)
		assert.Equal(t, mk(want), v)
		want++
	}

	// The waiting get forms, each blocked on the empty queue, return the
	// value a put brings.
	gets := []func() (T, error){
		q.Get,
		func() (T, error) { return q.GetContext(long) },
		func() (T, error) { return q.GetTimeout(time.Minute) },
		func() (T, error) { return batchOne(q.GetBatch) },
		func() (T, error) { return batchOne(func(d []T) (int, error) { return q.GetBatchContext(long, d) }) },
		func() (T, error) {
			return batchOne(func(d []T) (int, error) { return q.GetBatchTimeout(d, time.Minute) })
		},
	}
	for i, get := range gets {
		type result struct {
			v   T
			err error
		}
		done := make(chan result, 1)
		go func() { v, err := get(); done <- result{v, err} }()
		require.NoError(t, q.Put(mk(100+i)))
		select {
		case r := <-done:
			require.NoError(t, r.err, "get form %d", i)
			assert.Equal(t, mk(100+i), r.v, "get form %d", i)
		case <-time.After(time.Minute):
			t.Fatalf("get form %d did not return the value put", i)
		}
	}
	assert.Zero(t, q.Len())
}

// batchOne runs a get batch for one value.
func batchOne[T any](getBatch func([]T) (int, error)) (T, error) {
	var dst [1]T
	n, err := getBatch(dst[:])
	if err == nil && n != 1 {
		err = fmt.Errorf("got %d values", n)
	}
	return dst[0], err
}

// TestTypedRawBadLengthIsConsumedOnEveryPath: a raw queue's message of
// another length than sizeof(T) (a byte Put through Queue(), or a length
// word that corrupt memory makes longer than the slot) is consumed and
// reported by Get, TryGet and GetBatch, in both modes and on both the fast
// and the general path, and the values behind it arrive.
func TestTypedRawBadLengthIsConsumedOnEveryPath(t *testing.T) {
	for _, mode := range []Mode{MPMC, SPSC} {
		q := newTypedT[tqJob](t, Options{Capacity: 8, Mode: mode})
		bq := q.Queue()
		// SPSC: a first value taken the ordinary way, so that the role is
		// held and the next Get looks on the fast path first.
		require.NoError(t, q.Put(jobFor(0, 0)))
		_, err := q.Get()
		require.NoError(t, err)

		require.NoError(t, bq.Put([]byte("short")))
		require.NoError(t, q.Put(jobFor(1, 1)))
		_, err = q.Get()
		assert.ErrorIs(t, err, shm.ErrCorrupt, "%v: short message, Get", mode)
		v, err := q.TryGet()
		require.NoError(t, err)
		assert.Equal(t, jobFor(1, 1), v)

		// A length word past the slot: only corrupt memory writes that.
		require.NoError(t, q.Put(jobFor(2, 2)))
		pos, _ := bq.headTail()
		*bq.slotLen(bq.slot(pos)) = uint32(bq.SlotSize() + 1)
		require.NoError(t, q.Put(jobFor(2, 3)))
		v, err = q.TryGet()
		assert.ErrorIs(t, err, shm.ErrCorrupt, "%v: long length word, TryGet", mode)
		assert.Equal(t, tqJob{}, v, "a failed get returns the zero value")
		v, err = q.Get()
		require.NoError(t, err)
		assert.Equal(t, jobFor(2, 3), v)

		// GetBatch: the bad messages are left out, the others stored in order.
		require.NoError(t, q.Put(jobFor(3, 1)))
		require.NoError(t, bq.Put([]byte("short")))
		require.NoError(t, q.Put(jobFor(3, 2)))
		require.NoError(t, q.Put(jobFor(3, 3)))
		pos, _ = bq.headTail()
		*bq.slotLen(bq.slot(pos + 3)) = uint32(bq.SlotSize() + 1)
		require.NoError(t, q.Put(jobFor(3, 4)))
		dst := make([]tqJob, 8)
		n, err := q.GetBatch(dst)
		assert.ErrorIs(t, err, shm.ErrCorrupt, "%v: GetBatch", mode)
		assert.Equal(t, []tqJob{jobFor(3, 1), jobFor(3, 2), jobFor(3, 4)}, dst[:n])
		assert.True(t, q.Empty())
	}
}
