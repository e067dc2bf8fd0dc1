package ringqueue

import (
	"bytes"
	"encoding/gob"
	"errors"
	"testing"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

var modes = []Mode{MPMC, SPSC}

func TestPutGetKeepOrderAcrossManyLaps(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			q := newQueue(t, Options{Capacity: 4, SlotSize: 16, Mode: m})
			buf := make([]byte, 16)
			for i := 0; i < 100; i++ {
				for j := 0; j < 1+i%4; j++ {
					require.NoError(t, q.TryPut([]byte{byte(i), byte(j)}))
				}
				for j := 0; j < 1+i%4; j++ {
					n, err := q.TryGet(buf)
					require.NoError(t, err)
					require.Equal(t, []byte{byte(i), byte(j)}, buf[:n])
				}
			}
		})
	}
}

func TestFullAndEmptyAreReportedByTryFormsAndAccessors(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			q := newQueue(t, Options{Capacity: 2, SlotSize: 8, Mode: m})
			require.Equal(t, 2, q.Cap())
			require.Equal(t, 8, q.SlotSize())
			require.Equal(t, m, q.Mode())
			require.True(t, q.Empty())
			_, err := q.TryGet(make([]byte, 8))
			require.ErrorIs(t, err, ErrEmpty)
			require.NoError(t, q.TryPut(nil))
			require.Equal(t, 1, q.Len())
			require.NoError(t, q.TryPut([]byte("12345678")))
			require.True(t, q.Full())
			err = q.TryPut([]byte("x"))
			require.ErrorIs(t, err, ErrFull)
			require.Contains(t, err.Error(), `ringqueue "q"`)
		})
	}
}

func TestZeroByteAndSlotSizedMessagesRoundTrip(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 13, Mode: m})
		full := bytes.Repeat([]byte{0xAB}, 13)
		require.NoError(t, q.Put(nil))
		require.NoError(t, q.Put(full))
		buf := make([]byte, 13)
		n, err := q.Get(buf)
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = q.Get(buf)
		require.NoError(t, err)
		require.Equal(t, full, buf[:n])
	}
}

func TestMessageLargerThanSlotIsErrTooLargeNamingBothSizes(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: m})
		err := q.Put(make([]byte, 9))
		require.ErrorIs(t, err, ErrTooLarge)
		require.Contains(t, err.Error(), "9 bytes")
		require.Contains(t, err.Error(), "slot size 8")
		require.ErrorIs(t, q.TryPut(make([]byte, 9)), ErrTooLarge)
		_, err = q.Reserve(9)
		require.ErrorIs(t, err, ErrTooLarge)
		_, err = q.PutBatch([][]byte{{1}, make([]byte, 9)})
		require.ErrorIs(t, err, ErrTooLarge)
		require.Zero(t, q.Len(), "nothing queued")
	}
}

func TestShortBufferLeavesTheMessageQueued(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 32, Mode: m})
		require.NoError(t, q.Put([]byte("hello, world")))
		_, err := q.Get(make([]byte, 4))
		require.ErrorIs(t, err, ErrShortBuffer)
		require.Contains(t, err.Error(), "12 bytes")
		buf := make([]byte, 12)
		n, err := q.TryGet(buf)
		require.NoError(t, err)
		require.Equal(t, "hello, world", string(buf[:n]))
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	seg := newSeg(t, 1<<16)
	for _, o := range []Options{
		{Capacity: 3},
		{Capacity: -1},
		{Capacity: MaxCapacity * 2},
		{SlotSize: -1},
		{SlotSize: MaxSlotSize + 1},
		{Mode: 7},
	} {
		_, err := New(seg, "bad", o)
		require.ErrorIs(t, err, ErrInvalid, "%+v", o)
	}
	_, err := New(seg, "huge", Options{Capacity: 1 << 20, SlotSize: 1 << 10})
	require.ErrorIs(t, err, shm.ErrNoSpace)
}

func TestDefaultsApplyToZeroOptions(t *testing.T) {
	q := newQueue(t, Options{})
	require.Equal(t, DefaultCapacity, q.Cap())
	require.Equal(t, DefaultSlotSize, q.SlotSize())
	require.Equal(t, MPMC, q.Mode())
}

func TestOpenSharesTheQueueAndChecksKind(t *testing.T) {
	seg := newSeg(t, 1<<16)
	q, err := New(seg, "q", Options{Capacity: 8, SlotSize: 8, Mode: SPSC})
	require.NoError(t, err)
	q2, err := Open(seg, "q")
	require.NoError(t, err)
	require.Equal(t, SPSC, q2.Mode())
	require.NoError(t, q.Put([]byte("a")))
	buf := make([]byte, 8)
	n, err := q2.Get(buf)
	require.NoError(t, err)
	require.Equal(t, "a", string(buf[:n]))

	_, err = New(seg, "q", Options{})
	require.ErrorIs(t, err, shm.ErrExists)
	_, err = Open(seg, "nope")
	require.ErrorIs(t, err, shm.ErrNotFound)
	_, err = seg.Create(shm.Spec{Name: "bytes", Kind: shm.KindBytes, Size: 1024}, nil)
	require.NoError(t, err)
	_, err = Open(seg, "bytes")
	require.ErrorIs(t, err, shm.ErrKindMismatch)
}

func TestGobRoundTripOpensTheSameQueue(t *testing.T) {
	q := newQueue(t, Options{Capacity: 8, SlotSize: 8})
	var b bytes.Buffer
	require.NoError(t, gob.NewEncoder(&b).Encode(struct{ Q *Queue }{q}))
	var out struct{ Q *Queue }
	require.NoError(t, gob.NewDecoder(&b).Decode(&out))
	require.NoError(t, q.Put([]byte("x")))
	require.Equal(t, 1, out.Q.Len())
	require.NoError(t, out.Q.Detach())
	require.Error(t, (&Queue{}).GobDecode([]byte{0}))
}

func TestInspectReadsWithoutChanging(t *testing.T) {
	q := newQueue(t, Options{Capacity: 8, SlotSize: 16})
	require.NoError(t, q.Put([]byte("a")))
	require.NoError(t, q.Put([]byte("b")))
	r, err := q.Reserve(3)
	require.NoError(t, err)
	st, err := Inspect(q.obj)
	require.NoError(t, err)
	require.Equal(t, QueueState{Mode: MPMC, Capacity: 8, SlotSize: 16, Len: 3, Head: 0, Tail: 3, Claims: 1}, st)
	require.NoError(t, r.Abort())
	require.NoError(t, q.Close())
	st, err = Inspect(q.obj)
	require.NoError(t, err)
	require.True(t, st.Closed)
	require.Zero(t, st.Claims)

	obj, err := q.seg.Create(shm.Spec{Name: "b", Kind: shm.KindBytes, Size: 8}, nil)
	require.NoError(t, err)
	_, err = Inspect(obj)
	require.ErrorIs(t, err, shm.ErrKindMismatch)
}

func TestErrorsWrapSentinelsWithTheQueueName(t *testing.T) {
	q := newQueue(t, Options{Capacity: 1, SlotSize: 8})
	require.NoError(t, q.Close())
	err := q.Put(nil)
	require.True(t, errors.Is(err, ErrClosed))
	require.Equal(t, `ringqueue "q": put: queue is closed`, err.Error())
}
