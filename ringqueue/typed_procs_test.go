package ringqueue_test

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cross-process tests of typed and joinable queues. They live in the
// external test package because procs imports ringqueue (the pool's
// transport). The children are registered at package level; the external
// test package's TestMain runs procs.Main.

// The values moved: the same shapes as the internal tests' types, under
// other names (fingerprints leave type names out).
type (
	tpJob struct {
		Producer uint32
		Seq      uint32
		Sum      uint64
	}
	tpPoint struct {
		X, Y int32
		Tag  [4]byte
	}
	tpPointSwapped struct {
		Y, X int32
		Tag  [4]byte
	}
	tpDoc struct {
		Name  string
		Tags  []string
		Attrs map[string]int
		Blob  []byte
		Next  *tpDoc
	}
	tpOther1 struct{ A, B string }
	tpOther2 struct{ C []int }
	tpOther3 struct{ D map[string]float64 }
)

func tpJobFor(p, s uint32) tpJob {
	return tpJob{Producer: p, Seq: s, Sum: uint64(p)*1_000_003 + uint64(s)*7919}
}

func tpDocFor(p, s int) tpDoc {
	d := tpDoc{Name: fmt.Sprintf("doc-%d-%d", p, s), Attrs: map[string]int{"p": p, "s": s}}
	for i := range s % 4 {
		d.Tags = append(d.Tags, strings.Repeat("t", i+1))
	}
	if s%3 == 0 {
		d.Blob = []byte{byte(p), byte(s), 0, 255}
		d.Next = &tpDoc{Name: "child", Tags: []string{"x"}}
	}
	return d
}

func tpErrString(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, ringqueue.ErrClosed):
		return "closed"
	default:
		return fmt.Sprintf("other: %v", err)
	}
}

// tpLedger counts deliveries in shared memory: one uint32 per (producer,
// seq), bumped by whichever process got the value, and a count of bad
// values. The parent checks every counter is exactly 1.
type tpLedger struct {
	counts []uint32
	bad    *uint32
	per    int
}

func newTpLedger(t *testing.T, seg *shm.Segment, name string, producers, per int) *tpLedger {
	t.Helper()
	_, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindBytes, Size: 64 + producers*per*4}, nil)
	require.NoError(t, err)
	l, err := openTpLedger(seg, name, per)
	require.NoError(t, err)
	return l
}

func openTpLedger(seg *shm.Segment, name string, per int) (*tpLedger, error) {
	obj, err := seg.Lookup(name)
	if err != nil {
		return nil, err
	}
	n := (int(obj.Size) - 64) / 4
	return &tpLedger{counts: unsafe.Slice((*uint32)(obj.Pointer(64)), n), bad: obj.Uint32(0), per: per}, nil
}

func (l *tpLedger) record(p, s int, ok bool) {
	i := p*l.per + s
	if !ok || p < 0 || s < 0 || s >= l.per || i >= len(l.counts) {
		atomic.AddUint32(l.bad, 1)
		return
	}
	atomic.AddUint32(&l.counts[i], 1)
}

func (l *tpLedger) check(t *testing.T) {
	t.Helper()
	assert.Zero(t, atomic.LoadUint32(l.bad), "bad values")
	wrong := 0
	for i := range l.counts {
		if c := atomic.LoadUint32(&l.counts[i]); c != 1 {
			if wrong < 5 {
				t.Errorf("value %d/%d delivered %d times", i/l.per, i%l.per, c)
			}
			wrong++
		}
	}
	assert.Zero(t, wrong, "values not delivered exactly once")
}

type tpRawArg struct {
	Q      *ringqueue.Typed[tpJob]
	ID     int
	Count  int
	Ledger string
	Per    int
}

type tpGobArg struct {
	Q      *ringqueue.Typed[tpDoc]
	ID     int
	Count  int
	Ledger string
	Per    int
	// Producers get the segment and the queue's name instead of Q, and
	// first encode Perturb other types: opening the queue registers
	// tpDoc with gob, so its type ids in this process then differ.
	Seg     *shm.Segment
	QName   string
	Perturb int
}

type tpProduced struct {
	Count    int
	DefsHash uint64 // hash of the type definitions this process's messages carry
}

type tpRangeArg struct {
	Q        *ringqueue.Typed[int64]
	From, To int64
}

var tpPerturbTypes = []any{tpOther1{}, tpOther2{}, tpOther3{}, tpPoint{}, map[string]tpPoint{}}

var (
	tpProduceRaw = procs.Register("ringqueue-typed-produce-raw", func(a tpRawArg) (int, error) {
		defer a.Q.Detach()
		for s := range a.Count {
			if err := a.Q.Put(tpJobFor(uint32(a.ID), uint32(s))); err != nil {
				return s, err
			}
		}
		return a.Count, nil
	})

	tpConsumeRaw = procs.Register("ringqueue-typed-consume-raw", func(a tpRawArg) (int, error) {
		defer a.Q.Detach()
		l, err := openTpLedger(a.Q.Segment(), a.Ledger, a.Per)
		if err != nil {
			return 0, err
		}
		dst := make([]tpJob, 16)
		n := 0
		for {
			var k int
			if a.ID%2 == 0 { // half the consumers take batches
				k, err = a.Q.GetBatch(dst)
			} else {
				dst[0], err = a.Q.Get()
				if err == nil {
					k = 1
				}
			}
			if errors.Is(err, ringqueue.ErrClosed) {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			for _, v := range dst[:k] {
				l.record(int(v.Producer), int(v.Seq), v == tpJobFor(v.Producer, v.Seq))
			}
			n += k
		}
	})

	tpProduceGob = procs.Register("ringqueue-typed-produce-gob", func(a tpGobArg) (tpProduced, error) {
		defer a.Seg.Detach()
		for _, v := range tpPerturbTypes[:a.Perturb] {
			if err := gob.NewEncoder(io.Discard).Encode(v); err != nil {
				return tpProduced{}, err
			}
		}
		var err error
		if a.Q, err = ringqueue.OpenTyped[tpDoc](a.Seg, a.QName); err != nil {
			return tpProduced{}, err
		}
		for s := range a.Count {
			if err := a.Q.Put(tpDocFor(a.ID, s)); err != nil {
				return tpProduced{Count: s}, err
			}
		}
		h, err := ringqueue.TypedDefsHash(a.Q, tpDocFor(a.ID, 0))
		return tpProduced{Count: a.Count, DefsHash: h}, err
	})

	tpConsumeGob = procs.Register("ringqueue-typed-consume-gob", func(a tpGobArg) (int, error) {
		defer a.Q.Detach()
		l, err := openTpLedger(a.Q.Segment(), a.Ledger, a.Per)
		if err != nil {
			return 0, err
		}
		return tpConsumeDocs(a.Q, l)
	})

	// tpOpenMismatch opens a named segment's raw queue of tpPoint as the
	// wrong type and as the right one, and reports what it saw.
	tpOpenMismatch = procs.Register("ringqueue-typed-open-mismatch", func(names [2]string) (string, error) {
		seg, err := shm.Open(names[0])
		if err != nil {
			return "", err
		}
		defer seg.Detach()
		_, err = ringqueue.OpenTyped[tpPointSwapped](seg, names[1])
		if !errors.Is(err, shm.ErrTypeMismatch) {
			return fmt.Sprintf("wrong type: %v", err), nil
		}
		q, err := ringqueue.OpenTyped[tpPoint](seg, names[1])
		if err != nil {
			return "", err
		}
		v, err := q.GetTimeout(30 * time.Second)
		return fmt.Sprintf("mismatch, then %+v %v", v, err), nil
	})

	tpPutRange = procs.Register("ringqueue-typed-put-range", func(a tpRangeArg) (int, error) {
		defer a.Q.Detach()
		for i := a.From; i < a.To; i++ {
			if err := a.Q.Put(i); err != nil {
				return int(i - a.From), err
			}
		}
		return int(a.To - a.From), nil
	})

	tpBlockedGet = procs.Register("ringqueue-typed-blocked-get", func(a tpRawArg) (string, error) {
		defer a.Q.Detach()
		_, err := a.Q.Get()
		return tpErrString(err), nil
	})
)

func tpConsumeDocs(q *ringqueue.Typed[tpDoc], l *tpLedger) (int, error) {
	n := 0
	for {
		v, err := q.Get()
		if errors.Is(err, ringqueue.ErrClosed) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		p, s := v.Attrs["p"], v.Attrs["s"]
		want := tpDocFor(p, s)
		ok := v.Name == want.Name && len(v.Tags) == len(want.Tags) && string(v.Blob) == string(want.Blob) &&
			(v.Next == nil) == (want.Next == nil)
		l.record(p, s, ok)
		n++
	}
}

// tpRequireMain stops a child in which procs.Main did not run (no
// TestMain calling it): it would run the tests, and start children of its
// own, instead of its function.
func tpRequireMain() {
	if procs.Current().Child {
		fmt.Fprintln(os.Stderr, "ringqueue tests: procs.Main did not run in this child: TestMain must call it")
		os.Exit(3)
	}
}

func tpStart[A, R any](t *testing.T, f *procs.Func[A, R], arg A) *procs.Process {
	t.Helper()
	tpRequireMain()
	p, err := procs.Start(f, arg)
	require.NoError(t, err)
	t.Cleanup(func() {
		if p.IsAlive() {
			_ = p.Kill()
			_ = p.Join()
		}
	})
	return p
}

func TestTypedRawAcrossProcessesDeliversEachStructOnce(t *testing.T) {
	const producers, consumers, per = 2, 2, 20000
	seg := newSeg(t, 1<<20)
	q, err := ringqueue.NewTyped[tpJob](seg, "jobs", ringqueue.Options{Capacity: 64})
	require.NoError(t, err)
	l := newTpLedger(t, seg, "ledger", producers, per)
	var cons, prods []*procs.Process
	for c := range consumers {
		cons = append(cons, tpStart(t, tpConsumeRaw, tpRawArg{Q: q, ID: c, Ledger: "ledger", Per: per}))
	}
	for p := range producers {
		prods = append(prods, tpStart(t, tpProduceRaw, tpRawArg{Q: q, ID: p, Count: per}))
	}
	for _, p := range prods {
		require.NoError(t, p.JoinTimeout(60*time.Second))
	}
	require.NoError(t, q.Close())
	total := 0
	for _, c := range cons {
		require.NoError(t, c.JoinTimeout(60*time.Second))
		n, err := procs.Result[int](c)
		require.NoError(t, err)
		total += n
	}
	assert.Equal(t, producers*per, total)
	l.check(t)
}

func TestTypedGobAcrossProcessesCarriesDocsFromProcessesWithOtherTypeIDs(t *testing.T) {
	const producers, per = 2, 1500
	seg := newSeg(t, 4<<20)
	q, err := ringqueue.NewTyped[tpDoc](seg, "docs", ringqueue.Options{Capacity: 64, SlotSize: 512})
	require.NoError(t, err)
	l := newTpLedger(t, seg, "ledger", producers, per)
	child := tpStart(t, tpConsumeGob, tpGobArg{Q: q, Ledger: "ledger", Per: per})
	var prods []*procs.Process
	for p := range producers {
		prods = append(prods, tpStart(t, tpProduceGob, tpGobArg{Seg: seg, QName: "docs", ID: p, Count: per, Perturb: 3 * p}))
	}
	// The parent consumes too, until the producers are done and the
	// queue is closed and drained.
	done := make(chan error, 1)
	go func() { _, err := tpConsumeDocs(q, l); done <- err }()
	var hashes []uint64
	for _, p := range prods {
		require.NoError(t, p.JoinTimeout(60*time.Second))
		r, err := procs.Result[tpProduced](p)
		require.NoError(t, err)
		assert.Equal(t, per, r.Count)
		hashes = append(hashes, r.DefsHash)
	}
	assert.NotEqual(t, hashes[0], hashes[1], "producers' type definitions should differ (type ids are per process)")
	require.NoError(t, q.Close())
	require.NoError(t, child.JoinTimeout(60*time.Second))
	require.NoError(t, <-done)
	l.check(t)
}

func TestTypedOpenByNameInChildWithOtherTypeIsTypeMismatch(t *testing.T) {
	seg := newNamedSeg(t, 1<<20)
	q, err := ringqueue.NewTyped[tpPoint](seg, "points", ringqueue.Options{Capacity: 4})
	require.NoError(t, err)
	require.NoError(t, q.Put(tpPoint{X: 4, Y: 2}))
	r, err := procs.Run(tpOpenMismatch, [2]string{seg.Name(), "points"})
	require.NoError(t, err)
	assert.Equal(t, "mismatch, then {X:4 Y:2 Tag:[0 0 0 0]} <nil>", r)
}

// CPython _TestQueue.test_fork: values put before a child starts and
// values the child puts all arrive, in order, and then the queue is empty.
func TestTypedValuesFromParentThenChildArriveInOrder(t *testing.T) {
	seg := newSeg(t, 1<<20)
	q, err := ringqueue.NewTyped[int64](seg, "ints", ringqueue.Options{Capacity: 32})
	require.NoError(t, err)
	for i := range int64(10) {
		require.NoError(t, q.Put(i))
	}
	p := tpStart(t, tpPutRange, tpRangeArg{Q: q, From: 10, To: 20})
	for i := range int64(20) {
		v, err := q.GetTimeout(30 * time.Second)
		require.NoError(t, err)
		require.Equal(t, i, v)
	}
	require.NoError(t, p.JoinTimeout(30*time.Second))
	_, err = q.TryGet()
	assert.ErrorIs(t, err, ringqueue.ErrEmpty)
	assert.True(t, q.Empty())
}

func TestTypedCloseWakesConsumerBlockedInChild(t *testing.T) {
	seg := newSeg(t, 1<<20)
	q, err := ringqueue.NewTyped[tpJob](seg, "jobs", ringqueue.Options{Capacity: 4})
	require.NoError(t, err)
	p := tpStart(t, tpBlockedGet, tpRawArg{Q: q})
	// Close once the child sleeps in Get, if it gets there within the
	// safety net; closing earlier must give the same result.
	obj, err := seg.Lookup("jobs")
	require.NoError(t, err)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		st, err := ringqueue.Inspect(obj)
		require.NoError(t, err)
		if st.ConsumersWaiting > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, q.Close())
	require.NoError(t, p.JoinTimeout(30*time.Second))
	r, err := procs.Result[string](p)
	require.NoError(t, err)
	assert.Equal(t, "closed", r)
}
