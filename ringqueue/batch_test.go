package ringqueue

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPutBatchAndGetBatchMoveManyInOrder(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 8, SlotSize: 8, Mode: m})
		var msgs [][]byte
		for i := 0; i < 20; i++ {
			msgs = append(msgs, []byte(fmt.Sprint(i)))
		}
		done := make(chan error, 1)
		go func() {
			n, err := q.PutBatch(msgs)
			if err == nil && n != len(msgs) {
				err = fmt.Errorf("put %d of %d", n, len(msgs))
			}
			done <- err
		}()
		var got []string
		for len(got) < len(msgs) {
			_, err := q.GetBatch(3, func(b []byte) { got = append(got, string(b)) })
			require.NoError(t, err)
		}
		require.NoError(t, <-done)
		for i, s := range got {
			require.Equal(t, fmt.Sprint(i), s)
		}
	}
}

func TestTryPutBatchPutsWhatFits(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: m})
		require.NoError(t, q.Put([]byte("x")))
		n, err := q.TryPutBatch([][]byte{{1}, {2}, {3}, {4}, {5}})
		require.NoError(t, err)
		require.Equal(t, 3, n)
		n, err = q.TryPutBatch([][]byte{{6}})
		require.ErrorIs(t, err, ErrFull)
		require.Zero(t, n)
		k, err := q.TryGetBatch(10, func([]byte) {})
		require.NoError(t, err)
		require.Equal(t, 4, k)
		_, err = q.TryGetBatch(10, func([]byte) {})
		require.ErrorIs(t, err, ErrEmpty)
		k, err = q.TryGetBatch(0, func([]byte) {})
		require.NoError(t, err)
		require.Zero(t, k)
	}
}

// PutBatchFuncTimeout puts what fits within d, then reports a timeout
// that is also ErrFull, with the count put; once there is room again it
// puts the whole batch.
func TestPutBatchFuncTimeoutPutsWhatFitsThenTimesOut(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: m})
		require.NoError(t, q.Put([]byte("x")))
		fill := func(i int, slot []byte) int { return copy(slot, fmt.Sprint(i)) }
		n, err := q.PutBatchFuncTimeout(5, fill, 10*time.Millisecond)
		require.ErrorIs(t, err, ErrTimeout)
		require.ErrorIs(t, err, ErrFull)
		require.Equal(t, 3, n)
		var got []string
		k, err := q.TryGetBatch(10, func(b []byte) { got = append(got, string(b)) })
		require.NoError(t, err)
		require.Equal(t, 4, k)
		require.Equal(t, []string{"x", "0", "1", "2"}, got)
		n, err = q.PutBatchFuncTimeout(4, fill, time.Minute)
		require.NoError(t, err)
		require.Equal(t, 4, n)
	}
}

func TestPutBatchFuncFillsSlotsInPlaceAndStopsAtABadLength(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 8, SlotSize: 4, Mode: m})
		n, err := q.PutBatchFunc(3, func(i int, slot []byte) int {
			require.Len(t, slot, 4)
			return copy(slot, fmt.Sprint(i))
		})
		require.NoError(t, err)
		require.Equal(t, 3, n)
		n, err = q.TryPutBatchFunc(4, func(i int, slot []byte) int {
			if i == 2 {
				return 5
			}
			slot[0] = 'z'
			return 1
		})
		require.ErrorIs(t, err, ErrTooLarge)
		require.Equal(t, 2, n)
		var got []string
		for {
			_, err := q.TryGetBatch(8, func(b []byte) { got = append(got, string(b)) })
			if err != nil {
				require.ErrorIs(t, err, ErrEmpty)
				break
			}
		}
		require.Equal(t, []string{"0", "1", "2", "z", "z"}, got)
	}
}

func TestGetBatchReleasesItsSlotsWhenFnPanics(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 2, SlotSize: 4, Mode: m})
		_, err := q.PutBatch([][]byte{{1}, {2}})
		require.NoError(t, err)
		func() {
			defer func() { require.NotNil(t, recover()) }()
			_, _ = q.GetBatch(2, func([]byte) { panic("consumer bug") })
		}()
		_, err = q.PutBatch([][]byte{{3}, {4}})
		require.NoError(t, err, "both slots were freed")
	}
}

func TestPutBatchFuncGivesUpItsClaimsWhenFillPanics(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 4, Mode: m})
		func() {
			defer func() { require.NotNil(t, recover()) }()
			_, _ = q.PutBatchFunc(3, func(i int, slot []byte) int {
				if i == 1 {
					panic("producer bug")
				}
				return copy(slot, "a")
			})
		}()
		require.NoError(t, q.Put([]byte("b")), "the ring is not held up")
		buf := make([]byte, 4)
		n, err := q.TryGet(buf)
		require.NoError(t, err)
		require.Equal(t, "b", string(buf[:n]))
	}
}

func TestSPSCGetFromInsideGetBatchIsRefused(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 4, Mode: SPSC})
	_, err := q.PutBatch([][]byte{{1}, {2}})
	require.NoError(t, err)
	var inner error
	n, err := q.GetBatch(1, func([]byte) { _, inner = q.TryGet(make([]byte, 4)) })
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.ErrorIs(t, inner, ErrInvalid)
	buf := make([]byte, 4)
	k, err := q.TryGet(buf)
	require.NoError(t, err)
	require.Equal(t, []byte{2}, buf[:k])
}
