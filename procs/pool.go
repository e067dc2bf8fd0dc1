package procs

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/funcqueue"
	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
)

// A Pool is a set of worker processes that run registered functions on
// the parent's behalf: Python's multiprocessing.Pool.
//
// Tasks travel to each worker over its own ring queue in an anonymous
// shared segment, and results come back over one shared ring queue: no
// pipe, no syscall while both sides are busy, and no gob for []byte,
// strings and fixed-size types. The parent keeps every task it sent to a
// worker until the result is back, so a worker that dies (SIGKILL,
// os.Exit, a crash) fails exactly the task it was running — with an error
// naming its exit code — while the tasks it had not started go to other
// workers, and a replacement takes its place. Nothing hangs.
//
// The usual shape:
//
//	pool, err := procs.NewPool(4)
//	if err != nil { ... }
//	defer pool.Terminate()       // Python's "with Pool() as pool"
//	squares, err := procs.Map(pool, square, items, 0)
//
// or, to let queued work finish, pool.Close() then pool.Join(). Work is
// submitted with the package-level generic functions (methods cannot have
// type parameters): Apply, ApplyAsync, Map, MapAsync, Imap, ImapUnordered,
// Starmap. A Pool is safe for concurrent use.
//
// Task arguments may hold shared objects (queues, values, locks, in named
// or anonymous segments) and duplex pipe connections: their descriptors
// travel to the worker over its side connection the first time a task
// names them (a segment is then kept attached there for later tasks).
// Results are data: a result holding a shared object or a connection
// fails with shm.ErrNotExporting.
// poolWait is how the pool's queues wait: WaitSpin, not a queue's
// default WaitPaced. A pool call is a request and its response, so each
// hand-off is waited for by a side with nothing else to do, and WaitPaced
// may add up to 3 µs to each. Measured (BenchmarkPoolApply and
// BenchmarkPoolMap100k, 3 interleaved runs, quiet 2-vCPU guest): Apply
// round trip spin 9.7-10.0 µs, paced 17.2-18.2, yield 15.1-23.6; Map of
// 100k items, chunk size 1: spin 64-69 ms, paced 66-69, yield 67-72.
const poolWait = ringqueue.WaitSpin

type Pool struct {
	n        int
	cfg      poolConfig
	seg      *shm.Segment
	state    shm.Object
	results  *ringqueue.Queue
	maxDepth int

	mu            sync.Mutex
	workers       []*slotState
	backlog       taskList
	nextID        uint64
	avgRun        float64 // ns per task, moving average of what workers report
	rr            int     // where the next pick starts looking
	phase         poolPhase
	brokenErr     error
	pending       int   // tasks submitted and not finished
	finished      []job // jobs whose last task ended, to finish without the lock
	queuesClosed  bool
	resultsClosed bool

	bg            sync.WaitGroup // watchers, replacement starts, slow sends
	callbacks     *funcqueue.Queue
	collectorDone chan struct{}
	bgDone        chan struct{} // closed once bg is done, after collectorDone
	bgWatch       sync.Once
	release       sync.Once
}

type poolPhase int

const (
	poolRunning poolPhase = iota
	poolClosing
	poolTerminated
	poolBroken
)

// slotState is the parent's record of one worker slot.
type slotState struct {
	slot     uint32
	gen      uint32
	tasks    *ringqueue.Queue // this slot's task queue; the parent is its producer
	proc     *Process
	live     bool // proc runs and may be sent tasks
	starting bool // a replacement is being started
	down     bool // no worker could be started here: never used again
	busy     bool // a goroutine is putting into tasks (sendSlow)
	inflight []*task
	rs       reassembly // a fragmented result being received
	ctx      context.Context
	cancel   context.CancelFunc // ends a sendSlow when the worker dies
	killedBy error              // why the parent killed it (a protocol violation)
	side     *sideChan          // this generation's side connection (pool_side.go)
}

type task struct {
	job    job
	lo, hi int
	id     uint64
	enc    []byte // an encoding found too large for one slot
	encErr error
}

// A PoolOption configures a pool.
type PoolOption func(*poolConfig)

type poolConfig struct {
	initName    string
	initArg     func() ([]byte, error)
	err         error
	maxTasks    int
	taskSlots   int
	resultSlots int
	slotSize    int
	procOpts    []Option
}

// WithInitializer runs f(arg) in each worker when it starts, before any
// task (Python's initializer/initargs), e.g. to keep what the tasks share
// in a package variable of the worker. arg crosses as a Start argument
// does, so shared objects in it (queues, values, locks, pipe connections,
// in anonymous segments too) reach every worker. An initializer that
// fails breaks the pool: pending and later tasks fail with ErrPoolBroken
// and the initializer's message (rather than restarting workers in a
// loop, as Python does).
func WithInitializer[A, R any](f *Func[A, R], arg A) PoolOption {
	return func(c *poolConfig) {
		c.initName = f.name
		// Encoded anew for each worker, inside its Start's export, so that
		// the segments and descriptors the argument names go with it.
		c.initArg = func() ([]byte, error) {
			var b bytes.Buffer
			if err := gob.NewEncoder(&b).Encode(box[A]{arg}); err != nil {
				return nil, fmt.Errorf("procs: pool initializer %q: encoding its argument: %w", f.name, err)
			}
			return b.Bytes(), nil
		}
	}
}

// WithMaxTasksPerChild replaces each worker after it has run n tasks
// (Python's maxtasksperchild); a task is a chunk of items. 0: never.
func WithMaxTasksPerChild(n int) PoolOption { return func(c *poolConfig) { c.maxTasks = max(n, 0) } }

// WithQueueSizes sets the slots of each worker's task queue (default 256;
// at most half of them hold tasks at once) and of the result queue
// (default 1024). Both are rounded up to powers of two.
func WithQueueSizes(taskSlots, resultSlots int) PoolOption {
	return func(c *poolConfig) {
		c.taskSlots, c.resultSlots = pow2(max(taskSlots, 2)), pow2(max(resultSlots, 2))
	}
}

// WithSlotSize sets the bytes of one queue slot (default 1024). A task or
// result that does not fit travels in several slots, so this is a
// trade-off between memory and the cost of large messages, not a limit.
func WithSlotSize(n int) PoolOption {
	return func(c *poolConfig) { c.slotSize = max(n, resultHeader+64) }
}

// WithWorkerOptions passes process options (WithStdout, WithEnv, ...) to
// every worker. Workers are always daemons, named "PoolWorker-N".
func WithWorkerOptions(opts ...Option) PoolOption {
	return func(c *poolConfig) { c.procOpts = append(c.procOpts, opts...) }
}

func pow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

var poolWorkerCount atomic.Int64

// NewPool starts a pool of n workers (n <= 0: one per CPU).
func NewPool(n int, opts ...PoolOption) (*Pool, error) {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	cfg := poolConfig{taskSlots: 256, resultSlots: 1024, slotSize: 1024}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	p := &Pool{n: n, cfg: cfg, maxDepth: max(1, cfg.taskSlots/2), collectorDone: make(chan struct{}), bgDone: make(chan struct{})}
	if err := p.build(); err != nil {
		return nil, fmt.Errorf("procs: new pool: %w", err)
	}
	// Start the workers side by side: each start is a fork and exec.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, w := range p.workers {
		wg.Go(func() {
			proc, side, err := p.spawn(w.slot, w.gen)
			if err == nil {
				p.mu.Lock()
				p.adopt(w, proc, side)
				p.mu.Unlock()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	p.callbacks = funcqueue.New()
	go p.collect()
	if err := errors.Join(errs...); err != nil {
		_ = p.Terminate()
		return nil, fmt.Errorf("procs: new pool: %w", err)
	}
	return p, nil
}

// build creates the segment, the queues and the state words.
func (p *Pool) build() error {
	taskO := ringqueue.Options{Capacity: p.cfg.taskSlots, SlotSize: p.cfg.slotSize, Mode: ringqueue.SPSC}
	resO := ringqueue.Options{Capacity: p.cfg.resultSlots, SlotSize: p.cfg.slotSize, Mode: ringqueue.MPMC}
	ts, err := ringqueue.Size(taskO)
	if err != nil {
		return err
	}
	rs, err := ringqueue.Size(resO)
	if err != nil {
		return err
	}
	heap := p.n*(ts+128) + rs + 128 + p.n*stateStride + 128
	seg, err := shm.Anonymous(heap, shm.WithParticipants(max(shm.DefaultParticipants, 2*p.n+8)), shm.WithObjects(p.n+8))
	if err != nil {
		return err
	}
	p.seg = seg
	fail := func(err error) error { _ = seg.Detach(); return err }
	if p.state, err = seg.Create(shm.Spec{Name: poolStateName, Kind: shm.KindPool, Size: p.n * stateStride}, nil); err != nil {
		return fail(err)
	}
	if p.results, err = ringqueue.New(seg, "procs.pool.results", resO); err != nil {
		return fail(err)
	}
	p.results.SetWaitPolicy(poolWait)
	for i := range p.n {
		q, err := ringqueue.New(seg, fmt.Sprintf("procs.pool.tasks.%d", i), taskO)
		if err != nil {
			return fail(err)
		}
		q.SetWaitPolicy(poolWait)
		p.workers = append(p.workers, &slotState{slot: uint32(i), tasks: q})
	}
	return nil
}

// spawn starts a worker for slot at generation gen, with the parent's end
// of its side connection.
func (p *Pool) spawn(slot, gen uint32) (*Process, *sideChan, error) {
	mine, theirs, err := Pipe(true)
	if err != nil {
		return nil, nil, err
	}
	defer theirs.Close() // the worker has its own copy, or never will
	arg := workerArg{
		Tasks: p.workers[slot].tasks, Results: p.results, Slot: slot, Gen: gen,
		MaxTasks: p.cfg.maxTasks, InitFunc: p.cfg.initName, InitArg: lazyGob{encode: p.cfg.initArg},
		Side: theirs,
	}
	opts := append(append([]Option(nil), p.cfg.procOpts...),
		WithDaemon(true), WithName(fmt.Sprintf("PoolWorker-%d", poolWorkerCount.Add(1))))
	proc, err := Start(poolWorker, arg, opts...)
	if err != nil {
		mine.Close()
		return nil, nil, err
	}
	return proc, newSideChan(mine), nil
}

// adopt makes proc slot w's live worker and watches it. Lock held.
func (p *Pool) adopt(w *slotState, proc *Process, side *sideChan) {
	w.side.close() // the previous generation's
	w.side = side
	w.proc, w.live = proc, true
	w.ctx, w.cancel = context.WithCancel(context.Background())
	p.bg.Add(1)
	go p.watch(w.slot, w.gen, proc, w.cancel)
	if p.phase == poolTerminated || p.phase == poolBroken {
		_ = proc.Kill()
	}
}

// watch posts a notice on the result queue once proc has ended. Posting it
// there, behind every result the worker put before it died, is what lets
// the collector settle the worker's tasks in order (pool_sched.go).
func (p *Pool) watch(slot, gen uint32, proc *Process, cancel context.CancelFunc) {
	defer p.bg.Done()
	<-proc.Done()
	cancel()
	var msg [resultHeader]byte
	resultHdr{slot: slot, gen: gen, kind: msgExited, flags: fragWhole}.put(msg[:])
	_ = p.results.Put(msg[:]) // ErrClosed: the pool is done and nobody listens
}

// Size returns the number of worker slots.
func (p *Pool) Size() int { return p.n }

// Processes returns the workers running now.
func (p *Pool) Processes() []*Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*Process
	for _, w := range p.workers {
		if w.live {
			out = append(out, w.proc)
		}
	}
	return out
}

// Close stops the pool from taking tasks. Tasks already submitted run to
// the end; then the workers exit. Close does not wait: Join does.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.phase == poolRunning {
		p.phase = poolClosing
		p.maybeFinishLocked()
	}
	p.unlockAndFinish()
	return nil
}

// Terminate stops the pool now: the workers are killed, every pending task
// fails with ErrPoolTerminated, and Terminate returns once the workers are
// gone and the pool's memory released. It is idempotent and may follow
// Close (then it cuts the wait short), so `defer pool.Terminate()` is the
// way to make sure a pool ends.
func (p *Pool) Terminate() error {
	p.mu.Lock()
	if p.phase == poolRunning || p.phase == poolClosing {
		p.phase = poolTerminated
		p.failAllLocked(ErrPoolTerminated)
		p.killAllLocked()
		p.maybeFinishLocked()
	}
	p.unlockAndFinish()
	return p.Join()
}

// Join waits for the workers to exit after Close or Terminate
// (ErrPoolRunning before), then releases the pool's shared memory
// (Python's join()).
func (p *Pool) Join() error { return p.join(futex.Block()) }

// TryJoin is Join that does not wait: it releases the pool if its
// workers have exited, and otherwise returns ErrRunning (wrapped); before
// Close it returns ErrPoolRunning, as Join does.
func (p *Pool) TryJoin() error { return p.join(futex.NoWait()) }

// JoinContext is Join that gives up when ctx ends, returning its error
// (wrapped); the pool goes on ending, and a later Join finishes the job.
func (p *Pool) JoinContext(ctx context.Context) error { return p.join(futex.WithContext(ctx)) }

// JoinTimeout is Join that gives up after d with ErrTimeout, as
// JoinContext gives up.
func (p *Pool) JoinTimeout(d time.Duration) error { return p.join(futex.Within(d)) }

func (p *Pool) join(b futex.Bound) error {
	p.mu.Lock()
	running := p.phase == poolRunning
	p.mu.Unlock()
	if running {
		return fmt.Errorf("procs: pool join: %w", ErrPoolRunning)
	}
	err := awaitChan(b, p.collectorDone)
	if err == nil {
		// No goroutine joins bg after the collector has ended: the
		// workers are gone, so nothing is replaced or sent any more.
		p.bgWatch.Do(func() {
			go func() {
				p.bg.Wait()
				close(p.bgDone)
			}()
		})
		err = awaitChan(b, p.bgDone)
	}
	switch {
	case err == errNotYet:
		return fmt.Errorf("procs: pool join: workers: %w", ErrRunning)
	case err != nil:
		return fmt.Errorf("procs: pool join: %w", err)
	}
	p.release.Do(func() {
		p.callbacks.Close()
		p.mu.Lock()
		for _, w := range p.workers {
			w.side.close()
		}
		p.mu.Unlock()
		_ = p.seg.Detach()
	})
	return nil
}

// killAllLocked kills every worker and stops every slow send.
func (p *Pool) killAllLocked() {
	for _, w := range p.workers {
		if w.live {
			_ = w.proc.Kill()
		}
		if w.cancel != nil {
			w.cancel()
		}
	}
}

// breakLocked puts the pool out of service with err.
func (p *Pool) breakLocked(err error) {
	if p.phase == poolBroken || p.phase == poolTerminated {
		return
	}
	p.phase = poolBroken
	p.brokenErr = fmt.Errorf("%w: %w", ErrPoolBroken, err)
	p.failAllLocked(p.brokenErr)
	p.killAllLocked()
}

// failAllLocked fails every pending task with err.
func (p *Pool) failAllLocked(err error) {
	for t := p.backlog.pop(); t != nil; t = p.backlog.pop() {
		p.failTaskLocked(t, err)
	}
	for _, w := range p.workers {
		for _, t := range w.inflight {
			p.failTaskLocked(t, err)
		}
		w.inflight = nil
	}
}

func (p *Pool) failTaskLocked(t *task, err error) {
	p.pending--
	if t.job.fail(t.lo, t.hi, err) {
		p.finished = append(p.finished, t.job)
	}
}

// unlockAndFinish unlocks and finishes the jobs that ended meanwhile.
func (p *Pool) unlockAndFinish() {
	f := p.finished
	p.finished = nil
	p.mu.Unlock()
	for _, j := range f {
		j.finish()
	}
}

// maybeFinishLocked moves a closing or ended pool on: once no task is
// pending it closes the task queues (workers drain them and exit); once
// no worker is left it closes the result queue (the collector drains it
// and ends).
func (p *Pool) maybeFinishLocked() {
	if p.phase == poolClosing && p.pending == 0 && !p.queuesClosed {
		p.queuesClosed = true
		for _, w := range p.workers {
			_ = w.tasks.Close()
		}
	}
	ending := p.phase == poolTerminated || p.phase == poolBroken || (p.phase == poolClosing && p.queuesClosed)
	if !ending || p.resultsClosed {
		return
	}
	for _, w := range p.workers {
		if w.live || w.starting {
			return
		}
	}
	p.resultsClosed = true
	_ = p.results.Close()
}
