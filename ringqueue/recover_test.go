package ringqueue

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// In-process crash simulations: a claim word is written as a dead
// participant would have left it (deadTag names no live process). The
// cross-process tests (stress_test.go) kill real processes.

// claimAsDead claims position pos's slot for a dead participant.
func claimAsDead(q *Queue, pos uint64, state uint64) {
	atomic.StoreUint64(q.ctrlAt(pos), ctrlWord(q.lap(pos), deadTag(q.seg), state))
}

func TestDeadProducerBeforeMovingTailIsSkippedAndHeadPassesTail(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 8})
	require.NoError(t, q.Put([]byte("a")))
	buf := make([]byte, 8)
	_, err := q.Get(buf)
	require.NoError(t, err)
	// Position 1 claimed by a producer that died before moving Tail.
	claimAsDead(q, 1, stateWriting)
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 8)
		n, err := q.GetTimeout(buf, 30*time.Second)
		if err != nil {
			got <- err.Error()
		}
		got <- string(buf[:n])
	}()
	waitFor(t, "the claim skipped", func() bool { h, _ := q.headTail(); return h == 2 })
	head, tail := q.headTail()
	require.Equal(t, [2]uint64{2, 1}, [2]uint64{head, tail}, "head passed tail over the skipped claim")
	require.Zero(t, q.Len())
	require.NoError(t, q.Put([]byte("b")))
	require.Equal(t, "b", <-got)
	head, tail = q.headTail()
	require.Equal(t, [2]uint64{3, 3}, [2]uint64{head, tail})
}

func TestDeadProducerClaimIsSkippedByTryGetAfterBoundedTime(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 8})
	r, err := q.Reserve(1) // position 0, claimed...
	require.NoError(t, err)
	claimAsDead(q, r.pos, stateWriting) // ...and its claimant dies
	require.NoError(t, q.Put([]byte("after")))
	buf := make([]byte, 8)
	start := time.Now()
	for {
		n, err := q.TryGet(buf)
		if err == nil {
			require.Equal(t, "after", string(buf[:n]))
			break
		}
		require.ErrorIs(t, err, ErrEmpty)
		require.Less(t, time.Since(start), 10*time.Second)
		time.Sleep(time.Millisecond)
	}
	require.GreaterOrEqual(t, time.Since(start), claimCheckAfter)
	require.ErrorIs(t, r.Commit(1), ErrNotHeld, "the claim was taken over")
}

func TestDeadConsumerClaimIsReclaimedByProducerAndItsMessageDropped(t *testing.T) {
	q := newQueue(t, Options{Capacity: 2, SlotSize: 8})
	require.NoError(t, q.Put([]byte("0")))
	require.NoError(t, q.Put([]byte("1")))
	m, err := q.Take() // position 0, taken...
	require.NoError(t, err)
	claimAsDead(q, m.pos, stateReading) // ...by a consumer that dies
	require.NoError(t, q.PutTimeout([]byte("2"), 10*time.Second))
	buf := make([]byte, 8)
	for _, want := range []string{"1", "2"} {
		n, err := q.Get(buf)
		require.NoError(t, err)
		require.Equal(t, want, string(buf[:n]))
	}
	require.ErrorIs(t, m.Release(), ErrNotHeld)
	st, err := Inspect(q.obj)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Reclaimed)
}

func TestDeadProducerBatchClaimsAreAllSkipped(t *testing.T) {
	q := newQueue(t, Options{Capacity: 16, SlotSize: 8})
	for p := uint64(0); p < 8; p++ {
		claimAsDead(q, p, stateWriting)
	}
	atomic.StoreUint64(&q.lay.Tail.Index, 8)
	require.NoError(t, q.Put([]byte("x")))
	buf := make([]byte, 8)
	start := time.Now()
	n, err := q.GetTimeout(buf, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "x", string(buf[:n]))
	// One claimant found dead once: its other claims go without waiting
	// again (generous bound: 8 waits would be 8 × claimCheckAfter).
	require.Less(t, time.Since(start), 10*time.Second)
	st, err := Inspect(q.obj)
	require.NoError(t, err)
	require.EqualValues(t, 8, st.Reclaimed)
}

func TestLiveClaimIsNeverReclaimed(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 8})
	r, err := q.Reserve(4)
	require.NoError(t, err)
	copy(r.Bytes(), "slow")
	_, err = q.GetTimeout(make([]byte, 8), 3*claimCheckAfter)
	require.ErrorIs(t, err, ErrTimeout, "the live producer's claim holds the head")
	require.NoError(t, r.Commit(4))
	buf := make([]byte, 8)
	n, err := q.Get(buf)
	require.NoError(t, err)
	require.Equal(t, "slow", string(buf[:n]))
	st, err := Inspect(q.obj)
	require.NoError(t, err)
	require.Zero(t, st.Reclaimed)
}

func TestSPSCDeadProducerLeavesNothingTornForTheNext(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: SPSC})
	require.NoError(t, q.Put([]byte("whole")))
	// A producer dies after writing a slot but before publishing it: the
	// write lies beyond Tail. Its role names a dead participant.
	s := q.slot(1)
	*q.slotLen(s) = 3
	copy(q.payload(s), "tor")
	atomic.StoreUint64(&q.lay.Tail.Role, deadID(q.seg))
	q.prod.role = false

	require.NoError(t, q.Put([]byte("next")), "takes the dead producer's role over")
	buf := make([]byte, 8)
	for _, want := range []string{"whole", "next"} {
		n, err := q.Get(buf)
		require.NoError(t, err)
		require.Equal(t, want, string(buf[:n]))
	}
}

func TestSPSCDetachReleasesTheRoles(t *testing.T) {
	q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: SPSC})
	require.NoError(t, q.Put([]byte("a")))
	_, err := q.Get(make([]byte, 8))
	require.NoError(t, err)
	require.Equal(t, q.seg.Self(), atomic.LoadUint64(&q.lay.Tail.Role))
	require.NoError(t, q.Detach())
	require.Zero(t, atomic.LoadUint64(&q.lay.Tail.Role))
	require.Zero(t, atomic.LoadUint64(&q.lay.Head.Role))
	// A role held by a live other participant is refused: pretend one.
	atomic.StoreUint64(&q.lay.Tail.Role, q.seg.Self()+1)
	// (Self()+1 is another index of this segment's table: no process, dead.)
	require.NoError(t, q.Put([]byte("b")), "a role of a participant that is not alive is taken over")
}

// Review defect 6: Detach gives back only the roles its handle holds. A
// sibling handle of this process holding the other side keeps it: clearing
// that word would admit a second process to the side it still works.
func TestSPSCDetachLeavesASiblingHandlesRole(t *testing.T) {
	prod := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: SPSC})
	cons, err := Open(prod.seg, "q")
	require.NoError(t, err)
	require.NoError(t, prod.Put([]byte("a")))
	_, err = cons.Get(make([]byte, 8))
	require.NoError(t, err)
	require.Equal(t, prod.seg.Self(), atomic.LoadUint64(&prod.lay.Head.Role))

	require.NoError(t, prod.Detach())
	require.Zero(t, atomic.LoadUint64(&prod.lay.Tail.Role), "the producer's role is given back")
	require.Equal(t, prod.seg.Self(), atomic.LoadUint64(&prod.lay.Head.Role), "the sibling's role stays")

	require.NoError(t, cons.Detach())
	require.Zero(t, atomic.LoadUint64(&prod.lay.Head.Role))
}
