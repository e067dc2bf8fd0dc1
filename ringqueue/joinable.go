package ringqueue

// # JoinableQueue
//
// Joinable[T] is a typed queue (raw or gob, as Typed[T]) that also counts
// unfinished tasks, as Python's multiprocessing.JoinableQueue does: every
// value put counts one, TaskDone uncounts one, and Join waits until the
// count is zero — until every value ever put has been got and marked done,
// by whichever processes. TaskDone with nothing unfinished is
// ErrTaskDoneTooMany (Python's ValueError("task_done() called too many
// times")) and changes nothing. Close does not touch the count: Join still
// waits for what was queued before.
//
// The count and Join's futex gate live in the queue object's aux area,
// so every process's handle sees them (shm kind KindJoinableQueue):
//
//	aux +0    Unfinished  uint64  values put minus TaskDone calls
//	aux +64   JoinSeq     uint32  futex word Join sleeps on
//	aux +68   JoinSleeper uint32  joiners counted asleep
//
// Each sits on its own cache line: Unfinished is written on every put and
// TaskDone; the gate's line is read once per count that reaches zero.
//
// Ordering. Put counts before it queues (and uncounts if the put fails), so
// a consumer can never TaskDone a value whose put is not counted yet: the
// count is never below the true number of unfinished tasks, only
// briefly above it while a put is in flight. TaskDone decrements with a CAS
// that refuses to go below zero. Whoever brings the count to zero (a
// TaskDone, or a failed put undoing its count) signals the gate:
//
//	joiner: seq := JoinSeq; if Unfinished == 0 { return }; sleepers++; if JoinSeq == seq { futex_wait(JoinSeq, seq) }; sleepers--; loop
//	zeroer: Unfinished = 0 (CAS); JoinSeq++; if sleepers != 0 { futex_wake(JoinSeq, all) }
//
// Go's atomics are sequentially consistent (the Dekker pairing of
// internal/futex): either the zeroer sees the joiner counted, or the
// joiner's re-read sees JoinSeq moved. While nobody joins, TaskDone costs
// one CAS and, at zero, an add and a load: no system call.
//
// Crashes. The count is only as honest as the processes that keep it. A
// consumer killed after Get and before TaskDone, a consumer killed in the
// middle of an MPMC get (its message is lost), or a producer killed
// between counting and queueing leaves the count too high for good, and a
// plain Join would then wait forever. So: Join has JoinContext and
// JoinTimeout; Unfinished reads the count (compare it with Len to see how
// many tasks are held by consumers); and a supervisor that knows how many
// tasks a dead worker held can mark them done with TaskDoneN. A joiner
// killed while asleep only leaves the sleeper count high: each later
// zeroing then pays one needless futex wake.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// ErrTaskDoneTooMany: TaskDone (or TaskDoneN) called more times than
// values were put. Nothing is changed.
var ErrTaskDoneTooMany = errors.New("task done called too many times")

// joinAux is the layout of a joinable queue's aux area.
type joinAux struct {
	Unfinished   uint64
	_            [56]byte
	JoinSeq      uint32
	JoinSleepers uint32
	_            [56]byte
}

const joinAuxSize = int(unsafe.Sizeof(joinAux{}))

var (
	_ [joinAuxSize - 128]byte
	_ [128 - joinAuxSize]byte
	_ [unsafe.Offsetof(joinAux{}.JoinSeq) - 64]byte
	_ [unsafe.Offsetof(joinAux{}.JoinSleepers) - 68]byte
)

// A Joinable is a handle on a typed queue that counts unfinished tasks
// (see Typed queues in the package documentation): Put counts, TaskDone uncounts, Join waits
// for zero. Everything else is as for Typed.
type Joinable[T any] struct {
	typedQueue[T]
	aux  *joinAux
	gate futex.Gate
}

// NewJoinable creates a joinable queue of T named name in seg (shm kind
// KindJoinableQueue); o as for NewTyped.
func NewJoinable[T any](seg *shm.Segment, name string, o Options) (*Joinable[T], error) {
	j := &Joinable[T]{}
	if err := j.create(seg, name, o, shm.KindJoinableQueue, joinAuxSize); err != nil {
		return nil, err
	}
	return j, j.initJoin()
}

// OpenJoinable opens the joinable queue of T named name in seg. A plain
// queue is shm.ErrKindMismatch, another T shm.ErrTypeMismatch.
func OpenJoinable[T any](seg *shm.Segment, name string) (*Joinable[T], error) {
	j := &Joinable[T]{}
	if err := j.open(seg, name, shm.KindJoinableQueue); err != nil {
		return nil, err
	}
	return j, j.initJoin()
}

// JoinableSize returns at most how many bytes of a segment's heap
// NewJoinable[T] will take for o.
func JoinableSize[T any](o Options) (int, error) {
	n, err := TypedSize[T](o)
	if err != nil {
		return 0, err
	}
	return n + 64 + joinAuxSize, nil // the aux area is 64-byte aligned after the slots
}

// GobDecode opens the joinable queue an encoded handle names (procs
// passes it as an argument this way); Detach releases the attachment.
func (j *Joinable[T]) GobDecode(b []byte) error {
	if err := j.decode(b, shm.KindJoinableQueue); err != nil {
		return err
	}
	if err := j.initJoin(); err != nil {
		_ = j.q.Detach()
		return err
	}
	return nil
}

func (j *Joinable[T]) initJoin() error {
	a := j.q.aux()
	if len(a) < joinAuxSize {
		return fmt.Errorf("ringqueue %q: open: %w: joinable queue with %d aux bytes, want %d", j.q.Name(), shm.ErrCorrupt, len(a), joinAuxSize)
	}
	j.aux = (*joinAux)(unsafe.Pointer(&a[0])) // 64-byte aligned by the byte layout
	j.gate = futex.NewGate(&j.aux.JoinSeq, &j.aux.JoinSleepers, new(atomic.Uint32))
	return nil
}

// count adds n unfinished tasks before a put.
func (j *Joinable[T]) count(n int) { atomic.AddUint64(&j.aux.Unfinished, uint64(n)) }

// uncount takes back n counted tasks whose put failed. Between count and
// uncount a TaskDone too many may already have taken the count (it could
// not know the put would fail), so like TaskDoneN it never goes below
// zero: a plain subtraction would wrap the count to nearly 2^64, and Join
// would never return.
func (j *Joinable[T]) uncount(n int) {
	if n <= 0 {
		return
	}
	p := &j.aux.Unfinished
	for {
		c := atomic.LoadUint64(p)
		take := min(c, uint64(n))
		if atomic.CompareAndSwapUint64(p, c, c-take) {
			if c == take && take > 0 {
				j.gate.SignalAll()
			}
			return
		}
	}
}

// Put counts one unfinished task and puts v, waiting while the queue is
// full; if the put fails (ErrClosed, ErrTooLarge, ...) the count is taken
// back.
func (j *Joinable[T]) Put(v T) error { return j.put(futex.Block(), &v) }

// TryPut is Put without waiting: ErrFull when no slot is free.
func (j *Joinable[T]) TryPut(v T) error { return j.put(futex.NoWait(), &v) }

// PutContext is Put bounded by ctx.
func (j *Joinable[T]) PutContext(ctx context.Context, v T) error {
	return j.put(futex.WithContext(ctx), &v)
}

// PutTimeout is Put bounded by d (ErrTimeout, ErrFull).
func (j *Joinable[T]) PutTimeout(v T, d time.Duration) error { return j.put(timeoutBound(d), &v) }

// put is every put form of a joinable queue.
func (j *Joinable[T]) put(b futex.Bound, v *T) error {
	j.count(1)
	err := j.typedQueue.put(b, v)
	if err != nil {
		j.uncount(1)
	}
	return err
}

// PutBatch counts and puts every value of vs, as Typed.PutBatch; values
// not put are not counted.
func (j *Joinable[T]) PutBatch(vs []T) (int, error) { return j.putBatch(futex.Block(), vs) }

// TryPutBatch is Typed.TryPutBatch, counting what it put.
func (j *Joinable[T]) TryPutBatch(vs []T) (int, error) { return j.putBatch(futex.NoWait(), vs) }

// PutBatchContext is Typed.PutBatchContext, counting what it put.
func (j *Joinable[T]) PutBatchContext(ctx context.Context, vs []T) (int, error) {
	return j.putBatch(futex.WithContext(ctx), vs)
}

// PutBatchTimeout is Typed.PutBatchTimeout, counting what it put.
func (j *Joinable[T]) PutBatchTimeout(vs []T, d time.Duration) (int, error) {
	return j.putBatch(timeoutBound(d), vs)
}

// putBatch is every put-batch form of a joinable queue.
func (j *Joinable[T]) putBatch(b futex.Bound, vs []T) (int, error) {
	j.count(len(vs))
	n, err := j.typedQueue.putBatch(b, vs)
	j.uncount(len(vs) - n)
	return n, err
}

// TaskDone marks one task done: a consumer calls it after it has finished
// with a value it got. It fails with ErrTaskDoneTooMany when no task is
// unfinished. When the count reaches zero, every Join returns.
func (j *Joinable[T]) TaskDone() error { return j.TaskDoneN(1) }

// TaskDoneN marks n tasks done at once (after a GetBatch, or for the
// tasks a dead worker held). If fewer than n are unfinished it fails with
// ErrTaskDoneTooMany and marks none.
func (j *Joinable[T]) TaskDoneN(n int) error {
	if n < 0 {
		return fmt.Errorf("ringqueue %q: task done: %w: %d tasks", j.q.Name(), ErrInvalid, n)
	}
	p := &j.aux.Unfinished
	for {
		c := atomic.LoadUint64(p)
		if c < uint64(n) {
			return fmt.Errorf("ringqueue %q: task done: %w: %d done, %d unfinished", j.q.Name(), ErrTaskDoneTooMany, n, c)
		}
		if atomic.CompareAndSwapUint64(p, c, c-uint64(n)) {
			if c == uint64(n) && n > 0 {
				j.gate.SignalAll()
			}
			return nil
		}
	}
}

// Unfinished returns the number of tasks put and not yet marked done, in
// queue or held by consumers. A count that stays above Len with every
// consumer idle points to a consumer that died holding tasks.
func (j *Joinable[T]) Unfinished() int {
	return int(min(atomic.LoadUint64(&j.aux.Unfinished), uint64(math.MaxInt)))
}

// Join waits until every task put has been marked done (at once if none
// is unfinished). A task lost to a crashed process makes it wait forever:
// prefer JoinContext or JoinTimeout where that matters. There is no
// TryJoin: a join that may not wait is the question Unfinished() == 0.
func (j *Joinable[T]) Join() error { return j.join(futex.Block()) }

// JoinContext is Join that gives up when ctx ends, returning its error (wrapped).
func (j *Joinable[T]) JoinContext(ctx context.Context) error { return j.join(futex.WithContext(ctx)) }

// JoinTimeout is Join that gives up after d with ErrTimeout (the error
// says how many tasks were still unfinished).
func (j *Joinable[T]) JoinTimeout(d time.Duration) error {
	return j.join(timeoutBound(d))
}

func (j *Joinable[T]) join(b futex.Bound) error {
	p := &j.aux.Unfinished
	if atomic.LoadUint64(p) == 0 {
		return nil // fast path: no gate, no clock
	}
	// Park at once: a join waits for whole tasks, not for a hand-off.
	err := j.gate.Await(b, futex.Waiter{Policy: futex.Park,
		Ready: func() bool { return atomic.LoadUint64(p) == 0 }})
	switch {
	case err == nil:
		return nil
	case err == ErrTimeout:
		return fmt.Errorf("ringqueue %q: join: %w: %d tasks unfinished", j.q.Name(), ErrTimeout, atomic.LoadUint64(p))
	}
	return fmt.Errorf("ringqueue %q: join: %w", j.q.Name(), err)
}
