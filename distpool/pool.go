package distpool

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/internal/funcqueue"
	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A Pool runs tasks on worker hosts over NATS JetStream: the generic
// functions of procs (Apply, ApplyAsync, Map, MapAsync, Imap,
// ImapUnordered, Starmap) take it as they take a *procs.Pool, because both
// are procs.Executors. Hosts run Serve on the same queue.
//
// Each task becomes one message on the queue; a host fetches it only when
// it has an idle worker process, runs it there, and publishes the result,
// which comes back to this pool and completes the call as a local pool
// would: results in order, a failed item's *procs.TaskError (its error's
// text, or its panic and stack), a killed worker process's exit code.
// What differs is a lost host (killed, cut off): its tasks fail with
// ErrWorkerLost once the queue's AckWait has passed without a result or a
// heartbeat, and are not run again unless the queue allows retries
// (WithRetries, for idempotent functions only).
//
// A Pool is safe for concurrent use. Close, then Join, or Terminate.
type Pool struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	cfg     poolConfig
	id      string
	subject string
	reply   string
	maxPay  int

	mu      sync.Mutex
	tasks   map[uint64]*inflight // by task id, until answered
	bySeq   map[uint64]uint64    // stream sequence → task id
	nextID  uint64
	closed  bool
	ended   bool
	idle    chan struct{} // closed when nothing is in flight after Close
	window  chan struct{} // bounds publishes awaiting their PubAck
	halt    atomic.Bool   // Terminate: publish no more
	stopped bool          // stop has begun: no new background goroutine

	hosts    *hostWatch
	results  jetstream.ConsumeContext
	advisory jetstream.ConsumeContext
	cbs      *funcqueue.Queue
	blobs    *blobs
	stopOnce sync.Once
	bg       sync.WaitGroup
}

type inflight struct {
	job  *procs.Job
	i    int
	seq  uint64
	blob string // the object holding the task, if it is one
}

// An Option configures NewPool.
type Option func(*poolConfig)

type poolConfig struct {
	queue   string
	ackWait time.Duration
	retries int
	build   string
}

// WithQueue names the queue (default "default"): hosts serving this name
// run this pool's tasks.
func WithQueue(name string) Option { return func(c *poolConfig) { c.queue = name } }

// WithAckWait sets how long a task may go without a result or a heartbeat
// before its host counts as lost (default 30s; hosts heartbeat every
// quarter of it). It is the queue's setting: the last pool to start sets
// it for every pool of the queue.
func WithAckWait(d time.Duration) Option { return func(c *poolConfig) { c.ackWait = d } }

// WithRetries lets a task whose host was lost run again, up to n more
// times, before it fails with ErrWorkerLost (default 0: never, as Python
// never re-runs a task). Only for idempotent functions: a lost host may
// have run the task to its end. Like WithAckWait, it is the queue's.
func WithRetries(n int) Option { return func(c *poolConfig) { c.retries = n } }

// WithBuildID stamps tasks with id instead of BuildID() (for programs
// built reproducibly from the same code on different machines, whose
// executables differ only in what the hash cannot tell apart).
func WithBuildID(id string) Option { return func(c *poolConfig) { c.build = id } }

// setupTimeout bounds NewPool's and Serve's exchanges with the server.
const setupTimeout = 30 * time.Second

// NewPool starts a pool on nc. It creates the streams and the queue's
// consumer if they do not exist yet, and returns once it listens for
// results; hosts may come later.
func NewPool(ctx context.Context, nc *nats.Conn, opts ...Option) (*Pool, error) {
	cfg := poolConfig{queue: "default", ackWait: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if err := validName("queue", cfg.queue); err != nil {
		return nil, err
	}
	if cfg.ackWait < time.Second || cfg.retries < 0 {
		return nil, fmt.Errorf("distpool: AckWait %v, retries %d: want AckWait >= 1s and retries >= 0", cfg.ackWait, cfg.retries)
	}
	if cfg.build == "" {
		cfg.build = buildID()
	}
	// Setting up is a few round trips: bounded even if ctx is not.
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1<<16), jetstream.WithPublishAsyncTimeout(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("distpool: %w", err)
	}
	if err := setup(ctx, js); err != nil {
		return nil, err
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, tasksStream, jetstream.ConsumerConfig{
		Durable: consumerName(cfg.queue), FilterSubject: taskPrefix + cfg.queue + ".>",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.ackWait, MaxDeliver: 1 + cfg.retries,
		MaxAckPending: -1,
	}); err != nil {
		return nil, fmt.Errorf("distpool: queue %q: consumer: %w", cfg.queue, err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	p := &Pool{
		nc: nc, js: js, cfg: cfg, id: hex.EncodeToString(b),
		tasks: map[uint64]*inflight{}, bySeq: map[uint64]uint64{},
		idle: make(chan struct{}), window: make(chan struct{}, 4096),
		cbs: funcqueue.New(), maxPay: int(nc.MaxPayload()),
		blobs: &blobs{js: js},
	}
	p.subject = taskSubject(cfg.queue, p.id)
	p.reply = resultPrefix + p.id
	fail := func(err error) (*Pool, error) {
		p.stop()
		return nil, err
	}
	adv, err := js.OrderedConsumer(ctx, advStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{advisoryMaxDeliveries + consumerName(cfg.queue)},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fail(fmt.Errorf("distpool: advisories: %w", err))
	}
	if p.advisory, err = adv.Consume(p.onAdvisory, jetstream.PullExpiry(4*time.Second), jetstream.PullHeartbeat(time.Second)); err != nil {
		return fail(fmt.Errorf("distpool: advisories: %w", err))
	}
	cons, err := js.OrderedConsumer(ctx, resultsStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{p.reply}})
	if err != nil {
		return fail(fmt.Errorf("distpool: results: %w", err))
	}
	if p.results, err = cons.Consume(p.onResult, jetstream.PullExpiry(4*time.Second), jetstream.PullHeartbeat(time.Second)); err != nil {
		return fail(fmt.Errorf("distpool: results: %w", err))
	}
	if p.hosts, err = watchHosts(ctx, js, cfg.queue); err != nil {
		return fail(err)
	}
	// The subscriptions must be known to the server before a task can be
	// answered: one round trip makes sure.
	if err := nc.FlushWithContext(ctx); err != nil {
		return fail(fmt.Errorf("distpool: %w", err))
	}
	return p, nil
}

// Size is the number of worker processes that live hosts of the queue
// advertise, at least 1 (procs.Executor).
func (p *Pool) Size() int { return max(p.hosts.slots(), 1) }

// Callback runs fn on the pool's callback goroutine (procs.Executor).
func (p *Pool) Callback(fn func()) { p.cbs.Push(fn) }

// Submit publishes every task of j (procs.Executor). It refuses the whole
// job, publishing nothing, if an argument holds a shared-memory object
// (ErrNotPortable), or the pool is closed.
func (p *Pool) Submit(j *procs.Job) error {
	n := j.Tasks()
	msgs := make([]*nats.Msg, n)
	// Encoding under shm.Export tells whether a handle was encoded: a
	// shared-memory object, which means nothing on another machine.
	segs, files, err := shm.Export(func() error {
		for i := range msgs {
			data, err := j.EncodeTask(nil, i)
			if err != nil {
				return fmt.Errorf("distpool: %q: encoding task %d: %w", j.Func(), i, err)
			}
			msgs[i] = &nats.Msg{Subject: p.subject, Data: data, Header: nats.Header{}}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(segs) > 0 || len(files) > 0 {
		for _, s := range segs {
			_ = s.Detach()
		}
		for _, f := range files {
			_ = f.Close()
		}
		return fmt.Errorf("distpool: %q: a task argument holds a shared-memory object: %w", j.Func(), ErrNotPortable)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fmt.Errorf("distpool: submit: %w", procs.ErrPoolClosed)
	}
	ids := make([]uint64, n)
	for i := range msgs {
		p.nextID++
		ids[i] = p.nextID
		p.tasks[ids[i]] = &inflight{job: j, i: i}
	}
	p.mu.Unlock()
	for i, m := range msgs {
		id := strconv.FormatUint(ids[i], 10)
		m.Header.Set(hdrBuild, p.cfg.build)
		m.Header.Set(hdrFunc, j.Func())
		m.Header.Set(hdrItems, strconv.Itoa(j.Items(i)))
		m.Header.Set(hdrTask, id)
		m.Header.Set(hdrReply, p.reply)
		m.Header.Set(jetstream.MsgIDHeader, p.id+"."+id)
	}
	p.background(func() { p.publish(msgs, ids) })
	return nil
}

// background runs f on a goroutine that stop waits for; once stop has
// begun, f is dropped (what it would clean up, the server's TTLs take).
func (p *Pool) background(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.bg.Go(f)
}

// publish sends the messages in order, a bounded number awaiting their
// PubAck at a time, and records each task's stream sequence (which the
// MAX_DELIVERIES advisory names).
func (p *Pool) publish(msgs []*nats.Msg, ids []uint64) {
	acks := make(chan struct {
		f  jetstream.PubAckFuture
		id uint64
	}, len(msgs))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for a := range acks {
			var err error
			select {
			case ack := <-a.f.Ok():
				p.mu.Lock()
				if t := p.tasks[a.id]; t != nil {
					t.seq = ack.Sequence
					p.bySeq[ack.Sequence] = a.id
				}
				p.mu.Unlock()
			case err = <-a.f.Err():
			}
			<-p.window
			if err != nil {
				p.answer(a.id, func(t *inflight) {
					t.job.Fail(t.i, fmt.Errorf("distpool: %q: publishing the task: %w", t.job.Func(), err))
				})
			}
		}
	}()
	for k, m := range msgs {
		if p.halt.Load() {
			break // terminated: the tasks failed already
		}
		if len(m.Data)+headroom > p.maxPay {
			// Too large for a message: the object store chunks it.
			name := m.Header.Get(jetstream.MsgIDHeader)
			if err := p.blobs.put(name, m.Data, time.Minute); err != nil {
				p.answer(ids[k], func(t *inflight) { t.job.Fail(t.i, fmt.Errorf("distpool: %q: %w", t.job.Func(), err)) })
				continue
			}
			p.mu.Lock()
			if t := p.tasks[ids[k]]; t != nil {
				t.blob = name
			}
			p.mu.Unlock()
			m.Header.Set(hdrBlob, name)
			m.Data = nil
		}
		p.window <- struct{}{}
		f, err := p.js.PublishMsgAsync(m)
		if err != nil {
			<-p.window
			p.answer(ids[k], func(t *inflight) {
				t.job.Fail(t.i, fmt.Errorf("distpool: %q: publishing the task: %w", t.job.Func(), err))
			})
			continue
		}
		acks <- struct {
			f  jetstream.PubAckFuture
			id uint64
		}{f, ids[k]}
		if duplicatePublish.Load() {
			p.republish(m)
		}
	}
	close(acks)
	<-done
}

// Tests make pools publish each task twice: the stream must drop the
// second copy.
var (
	duplicatePublish  atomic.Bool
	duplicatesDropped atomic.Int64
)

func (p *Pool) republish(m *nats.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ack, err := p.js.PublishMsg(ctx, m); err == nil && ack.Duplicate {
		duplicatesDropped.Add(1)
	}
}

// answer removes task id from the table and, if it was still there (the
// first answer wins), runs end on it.
func (p *Pool) answer(id uint64, end func(*inflight)) {
	p.mu.Lock()
	t := p.tasks[id]
	if t != nil {
		delete(p.tasks, id)
		if t.seq != 0 {
			delete(p.bySeq, t.seq)
		}
	}
	p.mu.Unlock()
	if t == nil {
		return
	}
	if t.blob != "" {
		p.background(func() { p.blobs.delete(t.blob) })
	}
	end(t)
	p.mu.Lock()
	if p.closed && len(p.tasks) == 0 && !p.ended {
		p.ended = true
		close(p.idle)
	}
	p.mu.Unlock()
}

func (p *Pool) onResult(m jetstream.Msg) {
	h := m.Headers()
	id, err := strconv.ParseUint(h.Get(hdrTask), 10, 64)
	if err != nil {
		return // not ours to make sense of
	}
	host := h.Get(hdrWorker)
	data := m.Data()
	if name := h.Get(hdrBlob); name != "" {
		p.mu.Lock()
		ours := p.tasks[id] != nil
		p.mu.Unlock()
		if !ours {
			p.background(func() { p.blobs.delete(name) }) // answered already
			return
		}
		var err error
		if data, err = p.blobs.get(name, time.Minute); err != nil {
			p.answer(id, func(t *inflight) { t.job.Fail(t.i, fmt.Errorf("distpool: %q: result: %w", t.job.Func(), err)) })
			return
		}
		p.background(func() { p.blobs.delete(name) })
	}
	switch h.Get(hdrStatus) {
	case "ok":
		pid, _ := strconv.Atoi(h.Get(hdrPid))
		p.answer(id, func(t *inflight) { t.job.Deliver(t.i, data, procs.Worker{Name: host, Pid: pid}) })
	default:
		err := decodeError(host, data)
		p.answer(id, func(t *inflight) { t.job.Fail(t.i, err) })
	}
}

// onAdvisory fails a task of this pool that ran out of deliveries: the
// host it went to was lost.
func (p *Pool) onAdvisory(m jetstream.Msg) {
	var adv struct {
		Seq        uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	if json.Unmarshal(m.Data(), &adv) != nil {
		return
	}
	p.mu.Lock()
	id, ok := p.bySeq[adv.Seq]
	p.mu.Unlock()
	if !ok {
		return // another pool's task
	}
	p.answer(id, func(t *inflight) {
		t.job.Fail(t.i, fmt.Errorf("distpool: %q: no answer within AckWait %v after delivery %d: %w",
			t.job.Func(), p.cfg.ackWait, adv.Deliveries, ErrWorkerLost))
	})
	// The work-queue stream keeps a message that ran out of deliveries.
	p.background(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s, err := p.js.Stream(ctx, tasksStream); err == nil {
			_ = s.DeleteMsg(ctx, adv.Seq)
		}
	})
}

// Close stops the pool taking tasks; those submitted go on (Python's
// close). Join then waits for them.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		if len(p.tasks) == 0 && !p.ended {
			p.ended = true
			close(p.idle)
		}
	}
	return nil
}

// Join waits until every task submitted before Close has ended, then
// releases what the pool holds on the server (its subscriptions, its
// results). It returns procs.ErrPoolRunning before Close. Its forms are
// procs.Pool's.
func (p *Pool) Join() error { return p.join(futex.Block()) }

// TryJoin is Join that does not wait: procs.ErrRunning (wrapped) while
// tasks are still out.
func (p *Pool) TryJoin() error { return p.join(futex.NoWait()) }

// JoinContext is Join that returns ctx's error (wrapped) if ctx ends first
// (the pool then still holds what it holds: Join again, or Terminate).
func (p *Pool) JoinContext(ctx context.Context) error { return p.join(futex.WithContext(ctx)) }

// JoinTimeout is Join that gives up after d with procs.ErrTimeout, as
// JoinContext gives up.
func (p *Pool) JoinTimeout(d time.Duration) error { return p.join(futex.Within(d)) }

func (p *Pool) join(b futex.Bound) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if !closed {
		return fmt.Errorf("distpool: join: %w", procs.ErrPoolRunning)
	}
	select {
	case <-p.idle:
	default:
		if b.Try() {
			return fmt.Errorf("distpool: join: tasks still out: %w", procs.ErrRunning)
		}
		ctx := b.Context()
		if dl, ok := b.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadlineCause(ctx, dl, procs.ErrTimeout)
			defer cancel()
		}
		select {
		case <-p.idle:
		case <-ctx.Done():
			return fmt.Errorf("distpool: join: %w", context.Cause(ctx))
		}
	}
	p.stop()
	return nil
}

// Terminate fails every task not yet answered with procs.ErrPoolTerminated,
// removes the pool's queued tasks and results from the server, and
// releases the pool. Tasks already running on hosts run to their end;
// their results are dropped.
func (p *Pool) Terminate() error {
	p.mu.Lock()
	p.closed = true
	ts := p.tasks
	p.tasks, p.bySeq = map[uint64]*inflight{}, map[uint64]uint64{}
	if !p.ended {
		p.ended = true
		close(p.idle)
	}
	p.mu.Unlock()
	for _, t := range ts {
		t.job.Fail(t.i, fmt.Errorf("distpool: %w", procs.ErrPoolTerminated))
	}
	// No publish may follow the purge.
	p.halt.Store(true)
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.bg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if s, e := p.js.Stream(ctx, tasksStream); e == nil {
		err = s.Purge(ctx, jetstream.WithPurgeSubject(p.subject))
	} else {
		err = e
	}
	p.stop()
	if err != nil {
		return fmt.Errorf("distpool: terminate: removing queued tasks: %w", err)
	}
	return nil
}

// stop releases the subscriptions and the results, once; a second caller
// (Terminate after Join) waits for the first.
func (p *Pool) stop() { p.stopOnce.Do(p.stopNow) }

func (p *Pool) stopNow() {
	if p.advisory != nil {
		p.advisory.Stop()
	}
	if p.results != nil {
		p.results.Stop()
	}
	if p.hosts != nil {
		p.hosts.stop()
	}
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.bg.Wait()
	if p.js != nil && p.reply != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s, err := p.js.Stream(ctx, resultsStream); err == nil {
			_ = s.Purge(ctx, jetstream.WithPurgeSubject(p.reply))
		}
	}
	p.cbs.Close()
}
