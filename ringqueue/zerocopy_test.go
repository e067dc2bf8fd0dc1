package ringqueue

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReserveCommitPublishesInPlace(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 16, Mode: m})
		r, err := q.Reserve(16)
		require.NoError(t, err)
		require.Len(t, r.Bytes(), 16)
		require.Equal(t, 16, cap(r.Bytes()), "the reservation cannot reach the next slot")
		n := copy(r.Bytes(), "in place")
		require.NoError(t, r.Commit(n))
		require.ErrorIs(t, r.Commit(n), ErrNotHeld, "twice")
		msg, err := q.Take()
		require.NoError(t, err)
		require.Equal(t, "in place", string(msg.Bytes()))
		require.Equal(t, len("in place"), cap(msg.Bytes()))
		require.NoError(t, msg.Release())
		require.ErrorIs(t, msg.Release(), ErrNotHeld, "twice")
		require.ErrorIs(t, Reservation{}.Commit(0), ErrNotHeld)
		require.ErrorIs(t, Message{}.Release(), ErrNotHeld)
	}
}

func TestSecondCommitAfterTheSlotMovedOnLeavesItAlone(t *testing.T) {
	q := newQueue(t, Options{Capacity: 1, SlotSize: 8})
	r, err := q.Reserve(2)
	require.NoError(t, err)
	copy(r.Bytes(), "ab")
	require.NoError(t, r.Commit(2))
	_, err = q.Get(make([]byte, 8))
	require.NoError(t, err)
	r2, err := q.Reserve(8) // the same slot, a lap on
	require.NoError(t, err)
	copy(r2.Bytes(), "12345678")
	require.ErrorIs(t, r.Commit(2), ErrNotHeld)
	require.NoError(t, r2.Commit(8))
	buf := make([]byte, 8)
	n, err := q.Get(buf)
	require.NoError(t, err)
	require.Equal(t, "12345678", string(buf[:n]), "the stale commit did not touch the length")
}

func TestCommitOfMoreThanReservedIsInvalid(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 16})
	r, err := q.Reserve(4)
	require.NoError(t, err)
	require.ErrorIs(t, r.Commit(5), ErrInvalid)
	require.NoError(t, r.Commit(4), "still held after the refused commit")
}

func TestAbortedReservationIsNeverDelivered(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: m})
		r, err := q.Reserve(3)
		require.NoError(t, err)
		copy(r.Bytes(), "bad")
		require.NoError(t, r.Abort())
		require.ErrorIs(t, r.Abort(), ErrNotHeld)
		require.NoError(t, q.Put([]byte("good")))
		buf := make([]byte, 8)
		n, err := q.Get(buf)
		require.NoError(t, err)
		require.Equal(t, "good", string(buf[:n]))
		_, err = q.TryGet(buf)
		require.ErrorIs(t, err, ErrEmpty)
	}
}

func TestMPMCManyReservationsOutstandingPublishInPositionOrder(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 8})
	a, err := q.Reserve(1)
	require.NoError(t, err)
	b, err := q.Reserve(1)
	require.NoError(t, err)
	b.Bytes()[0] = 'b'
	require.NoError(t, b.Commit(1))
	_, err = q.TryGet(make([]byte, 8))
	require.ErrorIs(t, err, ErrEmpty, "a's claim holds the head")
	a.Bytes()[0] = 'a'
	require.NoError(t, a.Commit(1))
	buf := make([]byte, 8)
	for _, want := range []string{"a", "b"} {
		n, err := q.TryGet(buf)
		require.NoError(t, err)
		require.Equal(t, want, string(buf[:n]))
	}
}

func TestSPSCOneReservationAndOneMessageAtATime(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: SPSC})
	r, err := q.Reserve(1)
	require.NoError(t, err)
	require.ErrorIs(t, q.Put([]byte("x")), ErrInvalid)
	_, err = q.Reserve(1)
	require.ErrorIs(t, err, ErrInvalid)
	require.NoError(t, r.Commit(1))
	require.NoError(t, q.Put([]byte("y")))
	m, err := q.Take()
	require.NoError(t, err)
	_, err = q.Get(make([]byte, 8))
	require.ErrorIs(t, err, ErrInvalid)
	require.NoError(t, m.Release())
	_, err = q.Get(make([]byte, 8))
	require.NoError(t, err)
}

func TestTakenMessageHoldsItsSlotUntilReleased(t *testing.T) {
	q := newQueue(t, Options{Capacity: 1, SlotSize: 8})
	require.NoError(t, q.Put([]byte("a")))
	m, err := q.Take()
	require.NoError(t, err)
	require.ErrorIs(t, q.TryPut([]byte("b")), ErrFull, "the slot is still being read")
	st, err := Inspect(q.obj)
	require.NoError(t, err)
	require.Equal(t, 1, st.Claims)
	require.Equal(t, ctrlWord(0, q.self, stateReading), atomic.LoadUint64(q.ctrlAt(0)))
	require.NoError(t, m.Release())
	require.NoError(t, q.TryPut([]byte("b")))
}

// Aborted reservations are passed over by consumers, and until then they
// hold their slots: producers never run round the ring past a Head that
// no consumer moved.
func TestAbortedReservationsHoldTheirSlotsUntilConsumersPassThem(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 8})
	for i := 0; i < 4; i++ {
		r, err := q.TryReserve(1)
		require.NoError(t, err)
		require.NoError(t, r.Abort())
	}
	_, err := q.TryReserve(1)
	require.ErrorIs(t, err, ErrFull)
	head, tail := q.headTail()
	require.Equal(t, [2]uint64{0, 4}, [2]uint64{head, tail})
	_, err = q.TryGet(make([]byte, 8))
	require.ErrorIs(t, err, ErrEmpty, "all four passed over")
	for i := 0; i < 4; i++ {
		require.NoError(t, q.TryPut([]byte{byte(i)}))
	}
	n, err := q.TryGetBatch(8, func(b []byte) {})
	require.NoError(t, err)
	require.Equal(t, 4, n)
}
