package ringqueue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Types the typed tests move around.
type (
	tqPoint struct {
		X, Y int32
		Tag  [4]byte
	}
	// tqPointAlias has tqPoint's layout under another name: the same
	// fingerprint, so it opens a tqPoint queue.
	tqPointAlias struct {
		X, Y int32
		Tag  [4]byte
	}
	// tqPointSwapped has another layout: a type mismatch.
	tqPointSwapped struct {
		Y, X int32
		Tag  [4]byte
	}
	tqJob struct {
		Producer uint32
		Seq      uint32
		Sum      uint64
	}
	tqDoc struct {
		Name  string
		Tags  []string
		Attrs map[string]int
		Blob  []byte
		Next  *tqDoc // recursive: fingerprints and gob must cope
	}
	tqHidden struct{ _ string } // not fixed-size, and no exported field for gob
)

// tqSeg makes an anonymous segment, closed after the test.
func tqSeg(t testing.TB, heap int) *shm.Segment {
	t.Helper()
	seg, err := shm.Anonymous(heap)
	require.NoError(t, err)
	t.Cleanup(func() { _ = seg.Detach() })
	return seg
}

func newTypedT[T any](t testing.TB, o Options) *Typed[T] {
	t.Helper()
	n, err := TypedSize[T](o)
	require.NoError(t, err)
	q, err := NewTyped[T](tqSeg(t, n+8192), "typed", o)
	require.NoError(t, err)
	return q
}

func jobFor(p, s uint32) tqJob {
	return tqJob{Producer: p, Seq: s, Sum: uint64(p)*1_000_003 + uint64(s)*7919}
}

func docFor(p, s int) tqDoc {
	d := tqDoc{Name: fmt.Sprintf("doc-%d-%d", p, s), Attrs: map[string]int{"p": p, "s": s}}
	for i := range s % 4 {
		d.Tags = append(d.Tags, strings.Repeat("t", i+1))
	}
	if s%3 == 0 {
		d.Blob = []byte{byte(p), byte(s), 0, 255}
		d.Next = &tqDoc{Name: "child", Tags: []string{"x"}}
	}
	return d
}

func TestTypedRawCopiesFixedSizeValuesInOrder(t *testing.T) {
	q := newTypedT[tqPoint](t, Options{Capacity: 8})
	assert.Equal(t, EncodingRaw, q.Encoding())
	assert.Equal(t, int(unsafe.Sizeof(tqPoint{})), q.SlotSize())
	assert.True(t, q.Empty())
	for i := range 8 {
		require.NoError(t, q.Put(tqPoint{X: int32(i), Y: -int32(i), Tag: [4]byte{'p', byte(i)}}))
	}
	assert.True(t, q.Full())
	assert.Equal(t, 8, q.Len())
	err := q.TryPut(tqPoint{})
	assert.ErrorIs(t, err, ErrFull)
	for i := range 8 {
		v, err := q.Get()
		require.NoError(t, err)
		assert.Equal(t, tqPoint{X: int32(i), Y: -int32(i), Tag: [4]byte{'p', byte(i)}}, v)
	}
	_, err = q.TryGet()
	assert.ErrorIs(t, err, ErrEmpty)
}

func TestTypedZeroSizeTypeTravelsAsEmptyMessages(t *testing.T) {
	q := newTypedT[struct{}](t, Options{Capacity: 2})
	assert.Equal(t, EncodingRaw, q.Encoding())
	require.NoError(t, q.Put(struct{}{}))
	_, err := q.Get()
	require.NoError(t, err)
}

func TestTypedOpenWithAnotherTypeIsTypeMismatch(t *testing.T) {
	seg := tqSeg(t, 1<<20)
	_, err := NewTyped[tqPoint](seg, "points", Options{Capacity: 4})
	require.NoError(t, err)
	_, err = NewTyped[tqDoc](seg, "docs", Options{Capacity: 4})
	require.NoError(t, err)

	_, err = OpenTyped[tqPointSwapped](seg, "points")
	assert.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = OpenTyped[int64](seg, "points")
	assert.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = OpenTyped[string](seg, "points") // a gob T on a raw queue
	assert.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = Open(seg, "points") // the byte API on a typed queue
	assert.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = OpenJoinable[tqPoint](seg, "points")
	assert.ErrorIs(t, err, shm.ErrKindMismatch)
	_, err = OpenTyped[tqPoint](seg, "docs")
	assert.ErrorIs(t, err, shm.ErrTypeMismatch)
	_, err = OpenTyped[map[string]int](seg, "docs")
	assert.ErrorIs(t, err, shm.ErrTypeMismatch)

	// The same layout under another name opens, and shares the values.
	a, err := OpenTyped[tqPointAlias](seg, "points")
	require.NoError(t, err)
	p, err := OpenTyped[tqPoint](seg, "points")
	require.NoError(t, err)
	require.NoError(t, p.Put(tqPoint{X: 1, Y: 2, Tag: [4]byte{3}}))
	v, err := a.Get()
	require.NoError(t, err)
	assert.Equal(t, tqPointAlias{X: 1, Y: 2, Tag: [4]byte{3}}, v)
}

func TestTypedRejectsBadOptionsAndUncarriableTypes(t *testing.T) {
	seg := tqSeg(t, 1<<20)
	_, err := NewTyped[tqPoint](seg, "slot", Options{SlotSize: 64})
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = NewTyped[tqHidden](seg, "hidden", Options{})
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = NewTyped[func()](seg, "func", Options{})
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = NewTyped[tqPoint](seg, "cap", Options{Capacity: 3})
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestTypedTimeoutsAndContextsReturnPromptly(t *testing.T) {
	for _, enc := range []string{"raw", "gob"} {
		t.Run(enc, func(t *testing.T) {
			var put func(context.Context, time.Duration) error
			var get func(context.Context, time.Duration) error
			if enc == "raw" {
				q := newTypedT[tqJob](t, Options{Capacity: 1})
				put, get = typedCallers(q, jobFor(1, 1))
			} else {
				q := newTypedT[tqDoc](t, Options{Capacity: 1, SlotSize: 512})
				put, get = typedCallers(q, docFor(1, 1))
			}
			err := get(nil, 20*time.Millisecond)
			assert.ErrorIs(t, err, ErrTimeout)
			assert.ErrorIs(t, err, ErrEmpty)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			assert.ErrorIs(t, get(ctx, 0), context.Canceled)

			require.NoError(t, put(nil, -1))
			err = put(nil, 20*time.Millisecond)
			assert.ErrorIs(t, err, ErrTimeout)
			assert.ErrorIs(t, err, ErrFull)
			assert.ErrorIs(t, put(ctx, 0), context.Canceled)

			// A context ended while the call is blocked (or before it
			// blocks: the result is the same) ends the call.
			ctx2, cancel2 := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- put(ctx2, 0) }()
			cancel2()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, context.Canceled)
			case <-time.After(10 * time.Second):
				t.Fatal("PutContext did not return after cancel")
			}
		})
	}
}

// typedCallers returns put and get in the form the arguments pick:
// ctx != nil is the Context form, d > 0 the Timeout form, else blocking.
func typedCallers[T any](q *Typed[T], v T) (put, get func(context.Context, time.Duration) error) {
	put = func(ctx context.Context, d time.Duration) error {
		switch {
		case ctx != nil:
			return q.PutContext(ctx, v)
		case d > 0:
			return q.PutTimeout(v, d)
		}
		return q.Put(v)
	}
	get = func(ctx context.Context, d time.Duration) error {
		var err error
		switch {
		case ctx != nil:
			_, err = q.GetContext(ctx)
		case d > 0:
			_, err = q.GetTimeout(d)
		default:
			_, err = q.Get()
		}
		return err
	}
	return put, get
}

func TestTypedCloseWakesBlockedCallsAndDrainsFirst(t *testing.T) {
	q := newTypedT[tqJob](t, Options{Capacity: 2})
	got := make(chan error, 1)
	go func() { _, err := q.Get(); got <- err }()
	require.NoError(t, q.Close())
	select {
	case err := <-got:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Get blocked on an empty queue did not wake on Close")
	}

	g := newTypedT[tqDoc](t, Options{Capacity: 2, SlotSize: 512})
	require.NoError(t, g.Put(docFor(1, 1)))
	require.NoError(t, g.Put(docFor(1, 2)))
	put := make(chan error, 1)
	go func() { put <- g.Put(docFor(1, 3)) }() // full: blocks
	require.NoError(t, g.Close())
	select {
	case err := <-put:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Put blocked on a full queue did not wake on Close")
	}
	for s := 1; s <= 2; s++ {
		d, err := g.Get()
		require.NoError(t, err)
		assert.Equal(t, docFor(1, s).Name, d.Name)
	}
	_, err := g.Get()
	assert.ErrorIs(t, err, ErrClosed)
	assert.True(t, g.Closed())
}

func TestTypedBatchesMoveEveryValue(t *testing.T) {
	q := newTypedT[tqJob](t, Options{Capacity: 16})
	const n = 1000
	vs := make([]tqJob, n)
	for i := range vs {
		vs[i] = jobFor(1, uint32(i))
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var got []tqJob
	go func() {
		defer wg.Done()
		dst := make([]tqJob, 7)
		for len(got) < n {
			k, err := q.GetBatchTimeout(dst, 10*time.Second)
			if !assert.NoError(t, err) {
				return
			}
			got = append(got, dst[:k]...)
		}
	}()
	k, err := q.PutBatch(vs)
	require.NoError(t, err)
	assert.Equal(t, n, k)
	wg.Wait()
	assert.Equal(t, vs, got)

	// Try forms: as many as fit, then ErrFull; as many as there are, then ErrEmpty.
	k, err = q.TryPutBatch(vs[:20])
	require.NoError(t, err)
	assert.Equal(t, 16, k)
	_, err = q.TryPutBatch(vs[:1])
	assert.ErrorIs(t, err, ErrFull)
	k, err = q.PutBatchTimeout(vs[:1], 10*time.Millisecond)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, err, ErrFull)
	assert.Equal(t, 0, k)
	dst := make([]tqJob, 40)
	k, err = q.TryGetBatch(dst)
	require.NoError(t, err)
	assert.Equal(t, vs[:16], dst[:k])
	_, err = q.TryGetBatch(dst)
	assert.ErrorIs(t, err, ErrEmpty)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = q.GetBatchContext(ctx, dst)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTypedBadMessageIsConsumedAndReported(t *testing.T) {
	raw := newTypedT[tqJob](t, Options{Capacity: 4})
	require.NoError(t, raw.Queue().Put([]byte("short")))
	require.NoError(t, raw.Put(jobFor(1, 1)))
	_, err := raw.Get()
	assert.ErrorIs(t, err, shm.ErrCorrupt)
	v, err := raw.Get()
	require.NoError(t, err)
	assert.Equal(t, jobFor(1, 1), v)
	for _, mode := range []Mode{MPMC, SPSC} { // the other forms, both modes
		rq := newTypedT[tqJob](t, Options{Capacity: 4, Mode: mode})
		require.NoError(t, rq.Queue().Put([]byte("short")))
		require.NoError(t, rq.Put(jobFor(1, 2)))
		_, err = rq.TryGet()
		assert.ErrorIs(t, err, shm.ErrCorrupt)
		v, err = rq.GetTimeout(time.Second)
		require.NoError(t, err)
		assert.Equal(t, jobFor(1, 2), v)
	}

	g := newTypedT[tqDoc](t, Options{Capacity: 4, SlotSize: 512})
	require.NoError(t, g.Queue().Put([]byte{0x05, 0x02, 0xff, 0xff})) // length 5, 4 bytes
	require.NoError(t, g.Queue().Put([]byte("not gob at all, no")))
	require.NoError(t, g.Put(docFor(1, 1)))
	dst := make([]tqDoc, 4)
	n, err := g.GetBatch(dst)
	assert.ErrorIs(t, err, ErrDecode)
	require.Equal(t, 1, n)
	assert.Equal(t, docFor(1, 1).Name, dst[0].Name)
	assert.True(t, g.Empty())
}

func TestTypedSPSCMovesValuesBetweenTwoGoroutines(t *testing.T) {
	q := newTypedT[tqJob](t, Options{Capacity: 8, Mode: SPSC})
	const n = 5000
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := q.Put(jobFor(9, uint32(i))); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range n {
		v, err := q.GetTimeout(10 * time.Second)
		require.NoError(t, err)
		require.Equal(t, jobFor(9, uint32(i)), v)
	}
	require.NoError(t, <-errc)
}

func TestTypedMPMCGoroutinesDeliverEachValueOnce(t *testing.T) {
	for _, enc := range []string{"raw", "gob"} {
		t.Run(enc, func(t *testing.T) {
			const producers, consumers, per = 3, 3, 2000
			var put func(p, s int) error
			var get func() (int, int, error)
			var closeQ func() error
			if enc == "raw" {
				q := newTypedT[tqJob](t, Options{Capacity: 32})
				put = func(p, s int) error { return q.Put(jobFor(uint32(p), uint32(s))) }
				get = func() (int, int, error) {
					v, err := q.Get()
					if err == nil && v != jobFor(v.Producer, v.Seq) {
						err = fmt.Errorf("torn value %+v", v)
					}
					return int(v.Producer), int(v.Seq), err
				}
				closeQ = q.Close
			} else {
				q := newTypedT[tqDoc](t, Options{Capacity: 32, SlotSize: 512})
				put = func(p, s int) error { return q.Put(docFor(p, s)) }
				get = func() (int, int, error) {
					v, err := q.Get()
					if err != nil {
						return 0, 0, err
					}
					p, s := v.Attrs["p"], v.Attrs["s"]
					if want := docFor(p, s); v.Name != want.Name || len(v.Tags) != len(want.Tags) {
						err = fmt.Errorf("wrong value %+v", v)
					}
					return p, s, err
				}
				closeQ = q.Close
			}
			seen := make([][]int, producers)
			for p := range seen {
				seen[p] = make([]int, per)
			}
			var mu sync.Mutex
			var cwg, pwg sync.WaitGroup
			for range consumers {
				cwg.Add(1)
				go func() {
					defer cwg.Done()
					for {
						p, s, err := get()
						if errors.Is(err, ErrClosed) {
							return
						}
						if !assert.NoError(t, err) {
							return
						}
						mu.Lock()
						seen[p][s]++
						mu.Unlock()
					}
				}()
			}
			for p := range producers {
				pwg.Add(1)
				go func() {
					defer pwg.Done()
					for s := range per {
						if !assert.NoError(t, put(p, s)) {
							return
						}
					}
				}()
			}
			pwg.Wait()
			require.NoError(t, closeQ())
			cwg.Wait()
			for p := range seen {
				for s, c := range seen[p] {
					if c != 1 {
						t.Fatalf("value %d/%d delivered %d times", p, s, c)
					}
				}
			}
		})
	}
}
