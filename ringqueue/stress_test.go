package ringqueue_test

import (
	. "github.com/multiproc-go/multiproc/ringqueue"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// crossSetup is a segment holding a queue, a ledger and progress words.
type crossSetup struct {
	seg      *shm.Segment
	q        *Queue
	l        *ledger
	progress shm.Object
}

func newCross(t testing.TB, o Options, producers, perProd int, segOpts ...shm.Option) crossSetup {
	t.Helper()
	size, err := Size(o)
	require.NoError(t, err)
	seg := newSeg(t, size+ledgerSize(producers, perProd)+64*8+8192, segOpts...)
	q, err := New(seg, "q", o)
	require.NoError(t, err)
	l, err := newLedger(seg, "ledger", producers, perProd)
	require.NoError(t, err)
	prog, err := seg.Create(shm.Spec{Name: "progress", Kind: shm.KindBytes, Size: 64 * 8}, nil)
	require.NoError(t, err)
	return crossSetup{seg: seg, q: q, l: l, progress: prog}
}

func (c crossSetup) prog(id int) *uint64 { return c.progress.Uint64(uintptr(id) * 8) }

// start starts a child and registers its cleanup: killed if still running.
func start[R any](t testing.TB, f *procs.Func[workArg, R], a workArg) *procs.Process {
	t.Helper()
	p, err := procs.Start(f, a)
	require.NoError(t, err)
	t.Cleanup(func() {
		if p.IsAlive() {
			_ = p.Kill()
		}
		_ = p.JoinTimeout(30 * time.Second)
	})
	return p
}

// waitFor polls cond (a state of shared memory another process changes)
// until it holds; the deadline is a safety net, not a measurement.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func joinAll(t testing.TB, ps []*procs.Process) []int {
	t.Helper()
	out := make([]int, len(ps))
	for i, p := range ps {
		require.NoError(t, p.JoinTimeout(120*time.Second), "child %d", i)
		require.NoError(t, p.Result(&out[i]))
	}
	return out
}

func TestProcesses4x4MoveOneMillionMessagesExactlyOnce(t *testing.T) {
	const producers, consumers, perProd = 4, 4, 250_000
	c := newCross(t, Options{Capacity: 1024, SlotSize: testMsgMax}, producers, perProd)
	var cons, prods []*procs.Process
	for i := 0; i < consumers; i++ {
		cons = append(cons, start(t, consumeChild, workArg{Q: c.q, ID: i, Ledger: "ledger"}))
	}
	for i := 0; i < producers; i++ {
		prods = append(prods, start(t, produceChild, workArg{Q: c.q, ID: i, Count: perProd}))
	}
	joinAll(t, prods)
	require.NoError(t, c.q.Close())
	got := joinAll(t, cons)
	total := 0
	for _, n := range got {
		total += n
	}
	require.Equal(t, producers*perProd, total)
	for p := 0; p < producers; p++ {
		require.Zero(t, c.l.missing(uint32(p), perProd), "producer %d", p)
	}
	require.Zero(t, atomic.LoadUint32(c.l.dups), "duplicates")
	require.Zero(t, atomic.LoadUint32(c.l.bad), "torn or bad messages")
	require.Zero(t, c.q.Len())
}

// A producer killed with SIGKILL at random points, several times over,
// while three others and four consumers run, and short-lived producers
// that end normally come and go between the kills: the killed producers'
// messages arrive at most once and whole; everyone else's exactly once;
// the queue keeps working. The participant table has room for just the
// live processes, so the entries of the killed and of the ended are
// really handed to the next ones.
func TestProcessesProducerKilledAtRandomPointsLosesNothingElse(t *testing.T) {
	const producers, consumers, perProd, victims, brief, perBrief = 3, 4, 100_000, 6, 3, 2_000
	// Victims are producers producers..producers+victims-1, each putting
	// numbered messages until killed; after them come victims*brief
	// producers of perBrief messages each, which end normally.
	ids := producers + victims + victims*brief
	c := newCross(t, Options{Capacity: 256, SlotSize: testMsgMax}, ids, perProd,
		shm.WithParticipants(1+producers+consumers+2))
	var cons, prods []*procs.Process
	for i := 0; i < consumers; i++ {
		cons = append(cons, start(t, consumeChild, workArg{Q: c.q, ID: i, Ledger: "ledger"}))
	}
	for i := 0; i < producers; i++ {
		prods = append(prods, start(t, produceChild, workArg{Q: c.q, ID: i, Count: perProd}))
	}
	for v := 0; v < victims; v++ {
		id := producers + v
		p := start(t, produceChild, workArg{Q: c.q, ID: id, Limit: perProd, Progress: "progress"})
		at := uint64(1000 + rand.IntN(20_000))
		waitFor(t, "victim progress", func() bool { return atomic.LoadUint64(c.prog(id)) >= at || !p.IsAlive() })
		require.True(t, p.IsAlive(), "victim %d ended early", v)
		require.NoError(t, p.Kill())
		require.Error(t, p.JoinTimeout(30*time.Second))
		for b := range brief {
			id := producers + victims + v*brief + b
			n, err := procs.Run(produceChild, workArg{Q: c.q, ID: id, Count: perBrief})
			require.NoError(t, err)
			require.Equal(t, perBrief, n)
		}
	}
	joinAll(t, prods)
	require.NoError(t, c.q.Close())
	joinAll(t, cons)

	for p := 0; p < producers; p++ {
		require.Zero(t, c.l.missing(uint32(p), perProd), "producer %d", p)
	}
	for b := producers + victims; b < ids; b++ {
		require.Zero(t, c.l.missing(uint32(b), perBrief), "brief producer %d", b)
	}
	for v := 0; v < victims; v++ {
		id := uint32(producers + v)
		done := int(atomic.LoadUint64(c.prog(int(id))))
		// Every message the victim finished putting was delivered; those
		// it was putting when killed (one, or a batch) may or may not have
		// been.
		require.Zero(t, c.l.missing(id, done), "victim %d lost a published message", v)
		require.LessOrEqual(t, perProd-c.l.missing(id, perProd), done+victimBatch, "victim %d", v)
	}
	require.Zero(t, atomic.LoadUint32(c.l.dups), "duplicates")
	require.Zero(t, atomic.LoadUint32(c.l.bad), "torn or bad messages")
	require.Zero(t, c.q.Len())
	t.Logf("claims of killed producers reclaimed: %d", inspect(t, c.q).Reclaimed)
}

// Consumers killed with SIGKILL at random points while others run: what
// a killed consumer held (at most one GetBatch's worth) is lost; nothing
// is delivered twice or torn, and the rest arrives.
func TestProcessesConsumersKilledAtRandomPointsLoseOnlyWhatTheyHeld(t *testing.T) {
	const producers, consumers, perProd, victims = 2, 2, 100_000, 4
	c := newCross(t, Options{Capacity: 256, SlotSize: testMsgMax}, producers, perProd)
	var cons, prods []*procs.Process
	for i := 0; i < consumers; i++ {
		cons = append(cons, start(t, consumeChild, workArg{Q: c.q, ID: i, Ledger: "ledger"}))
	}
	for i := 0; i < producers; i++ {
		prods = append(prods, start(t, produceChild, workArg{Q: c.q, ID: i, Count: perProd}))
	}
	for v := 0; v < victims; v++ {
		p := start(t, consumeChild, workArg{Q: c.q, ID: consumers + v, Ledger: "ledger"})
		before := atomic.LoadUint64(c.l.received)
		at := before + uint64(500+rand.IntN(10_000))
		waitFor(t, "traffic", func() bool {
			return atomic.LoadUint64(c.l.received) >= at || !p.IsAlive() || !prods[0].IsAlive() && !prods[1].IsAlive()
		})
		require.NoError(t, p.Kill())
		_ = p.JoinTimeout(30 * time.Second)
	}
	joinAll(t, prods)
	require.NoError(t, c.q.Close())
	joinAll(t, cons)
	lost := 0
	for p := 0; p < producers; p++ {
		lost += c.l.missing(uint32(p), perProd)
	}
	require.LessOrEqual(t, lost, victims*consumeBatch, "more lost than the victims can have held")
	require.Zero(t, atomic.LoadUint32(c.l.dups), "duplicates")
	require.Zero(t, atomic.LoadUint32(c.l.bad), "torn or bad messages")
	t.Logf("lost with killed consumers: %d; reclaimed: %d", lost, inspect(t, c.q).Reclaimed)
}

// A consumer killed while asleep in Get leaves its sleeper count behind;
// producers' wakes find nobody and repair it, so puts stop making system
// calls again.
func TestProcessesConsumerKilledAsleepHasItsCountRepaired(t *testing.T) {
	c := newCross(t, Options{Capacity: 4, SlotSize: 16}, 1, 1)
	p := start(t, blockedGet, workArg{Q: c.q})
	waitFor(t, "consumer asleep", func() bool { return inspect(t, c.q).ConsumersWaiting == 1 })
	require.NoError(t, p.Kill())
	require.Error(t, p.JoinTimeout(30*time.Second))
	require.Equal(t, 1, inspect(t, c.q).ConsumersWaiting, "the dead sleeper's count")
	buf := make([]byte, 16)
	for i := 0; i < 200 && inspect(t, c.q).ConsumersWaiting != 0; i++ {
		require.NoError(t, c.q.Put([]byte("x")))
		_, err := c.q.Get(buf)
		require.NoError(t, err)
	}
	require.Zero(t, inspect(t, c.q).ConsumersWaiting)
}

// The window the crash design is about: a producer that claimed a slot and
// wrote half a message dies. Consumers skip the slot within bounded time
// and never see the half message; later messages flow.
func TestProcessesProducerKilledBetweenClaimAndPublishIsSkipped(t *testing.T) {
	c := newCross(t, Options{Capacity: 8, SlotSize: testMsgMax}, 2, 16)
	buf := make([]byte, testMsgMax)
	require.NoError(t, c.q.Put(buf[:encodeTestMsg(buf, 0, 0)]))
	p := start(t, dieMidPut, workArg{Q: c.q, ID: 1, Progress: "progress"})
	require.Error(t, p.JoinTimeout(30*time.Second)) // killed by itself
	require.EqualValues(t, 1, atomic.LoadUint64(c.prog(1)))
	require.NoError(t, c.q.Put(buf[:encodeTestMsg(buf, 0, 1)]))
	st := inspect(t, c.q)
	require.Equal(t, 1, st.Claims, "the dead producer's claim")

	for want := uint32(0); want < 2; want++ {
		n, err := c.q.GetTimeout(buf, 30*time.Second)
		require.NoError(t, err)
		prod, seq, err := decodeTestMsg(buf[:n])
		require.NoError(t, err)
		require.Equal(t, [2]uint32{0, want}, [2]uint32{prod, seq})
	}
	_, err := c.q.TryGet(buf)
	require.ErrorIs(t, err, ErrEmpty)
	st = inspect(t, c.q)
	require.Zero(t, st.Claims)
	require.EqualValues(t, 1, st.Reclaimed)
	// The ring still works across a full lap.
	for i := 0; i < 20; i++ {
		require.NoError(t, c.q.Put(buf[:encodeTestMsg(buf, 0, uint32(2+i%14))]))
		_, err := c.q.Get(buf)
		require.NoError(t, err)
	}
}

// An MPMC consumer killed holding a message: the message is lost (at most
// once), and the slot is reclaimed when producers need it.
func TestProcessesMPMCConsumerKilledMidGetDropsItsMessage(t *testing.T) {
	c := newCross(t, Options{Capacity: 4, SlotSize: testMsgMax}, 1, 16)
	buf := make([]byte, testMsgMax)
	for s := uint32(0); s < 4; s++ {
		require.NoError(t, c.q.Put(buf[:encodeTestMsg(buf, 0, s)]))
	}
	p := start(t, dieMidGet, workArg{Q: c.q, Progress: "progress"})
	require.Error(t, p.JoinTimeout(30*time.Second))
	require.EqualValues(t, 1, atomic.LoadUint64(c.prog(0)), "the child took message 0")

	// The fifth put needs the slot the dead consumer held: it waits
	// claimCheckAfter, finds the consumer dead and reclaims the slot.
	require.NoError(t, c.q.PutTimeout(buf[:encodeTestMsg(buf, 0, 4)], 30*time.Second))
	require.EqualValues(t, 1, inspect(t, c.q).Reclaimed)
	for want := uint32(1); want < 5; want++ {
		n, err := c.q.GetTimeout(buf, 30*time.Second)
		require.NoError(t, err)
		_, seq, err := decodeTestMsg(buf[:n])
		require.NoError(t, err)
		require.Equal(t, want, seq)
	}
	_, err := c.q.TryGet(buf)
	require.ErrorIs(t, err, ErrEmpty)
}

// An SPSC consumer killed holding a message: the next consumer takes the
// role over and gets the message again (it was never released).
func TestProcessesSPSCConsumerKilledMidGetRedeliversToNextConsumer(t *testing.T) {
	c := newCross(t, Options{Capacity: 4, SlotSize: testMsgMax, Mode: SPSC}, 1, 16)
	buf := make([]byte, testMsgMax)
	for s := uint32(0); s < 3; s++ {
		require.NoError(t, c.q.Put(buf[:encodeTestMsg(buf, 0, s)]))
	}
	p := start(t, dieMidGet, workArg{Q: c.q, Progress: "progress"})
	require.Error(t, p.JoinTimeout(30*time.Second))
	require.EqualValues(t, 1, atomic.LoadUint64(c.prog(0)))
	for want := uint32(0); want < 3; want++ {
		n, err := c.q.GetTimeout(buf, 30*time.Second)
		require.NoError(t, err)
		_, seq, err := decodeTestMsg(buf[:n])
		require.NoError(t, err)
		require.Equal(t, want, seq)
	}
}

func TestProcessesCloseWakesBlockedConsumersAndProducers(t *testing.T) {
	for _, mode := range []Mode{MPMC, SPSC} {
		t.Run(mode.String(), func(t *testing.T) {
			c := newCross(t, Options{Capacity: 2, SlotSize: 16, Mode: mode}, 1, 1)
			empty := c.q
			full, err := New(c.seg, "full", Options{Capacity: 1, SlotSize: 16, Mode: mode})
			require.NoError(t, err)
			require.NoError(t, full.Put([]byte("x")))
			require.NoError(t, full.Detach()) // SPSC: let the child be the producer
			n := 3
			if mode == SPSC {
				n = 1
			}
			var getters []*procs.Process
			for i := 0; i < n; i++ {
				getters = append(getters, start(t, blockedGet, workArg{Q: empty}))
			}
			putter := start(t, blockedPut, workArg{Q: full})
			waitFor(t, "getters asleep", func() bool { return inspect(t, empty).ConsumersWaiting == n })
			waitFor(t, "putter asleep", func() bool { return inspect(t, full).ProducersWaiting == 1 })
			require.NoError(t, empty.Close())
			require.NoError(t, full.Close())
			for _, p := range append(getters, putter) {
				require.NoError(t, p.JoinTimeout(30*time.Second))
				var s string
				require.NoError(t, p.Result(&s))
				require.Equal(t, "closed", s)
			}
			// The full queue's message is still there to drain.
			buf := make([]byte, 16)
			k, err := full.TryGet(buf)
			require.NoError(t, err)
			require.Equal(t, "x", string(buf[:k]))
			_, err = full.TryGet(buf)
			require.ErrorIs(t, err, ErrClosed)
		})
	}
}

func TestProcessesOpenByNameInANamedSegment(t *testing.T) {
	seg := newNamedSeg(t, 1<<16)
	q, err := New(seg, "jobs", Options{Capacity: 8, SlotSize: 32})
	require.NoError(t, err)
	require.NoError(t, q.Put([]byte("from parent")))
	got, err := procs.Run(openByName, [2]string{seg.Name(), "jobs"})
	require.NoError(t, err)
	require.Equal(t, "from parent", got)
	buf := make([]byte, 32)
	n, err := q.TryGet(buf)
	require.NoError(t, err)
	require.Equal(t, "from child", string(buf[:n]))
}

func TestProcessesSPSCRoleHeldByLiveProcessIsErrRoleThenTakenOverWhenItDies(t *testing.T) {
	c := newCross(t, Options{Capacity: 8, SlotSize: 16, Mode: SPSC}, 1, 1)
	p := start(t, holdRole, workArg{Q: c.q, Progress: "progress"})
	waitFor(t, "role held", func() bool { return atomic.LoadUint64(c.prog(0)) == 1 })
	require.ErrorIs(t, c.q.TryPut([]byte("mine")), ErrRole)
	st := inspect(t, c.q)
	require.NotZero(t, st.ProducerRole)
	require.NotEqual(t, c.seg.Self(), st.ProducerRole)
	require.NoError(t, p.Kill())
	require.Error(t, p.JoinTimeout(30*time.Second))
	require.NoError(t, c.q.TryPut([]byte("mine")))
	buf := make([]byte, 16)
	for _, want := range []string{"held", "mine"} {
		n, err := c.q.TryGet(buf)
		require.NoError(t, err)
		require.Equal(t, want, string(buf[:n]))
	}
}

// TestSoakProcesses runs the kill test over and over: MULTIPROC_SOAK=1
// go test -run Soak ./ringqueue.
func TestSoakProcesses(t *testing.T) {
	if os.Getenv("MULTIPROC_SOAK") == "" {
		t.Skip("set MULTIPROC_SOAK=1 to soak")
	}
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; time.Now().Before(deadline) && !t.Failed(); i++ {
		t.Run("ProducersKilled", TestProcessesProducerKilledAtRandomPointsLosesNothingElse)
		t.Run("ConsumersKilled", TestProcessesConsumersKilledAtRandomPointsLoseOnlyWhatTheyHeld)
		t.Run("KilledMidClaim", TestProcessesProducerKilledBetweenClaimAndPublishIsSkipped)
		t.Run("4x4", TestProcesses4x4MoveOneMillionMessagesExactlyOnce)
	}
}
