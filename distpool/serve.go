package distpool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A ServeOption configures Serve.
type ServeOption func(*serveConfig)

type serveConfig struct {
	queue    string
	slots    int
	name     string
	build    string
	poolOpts []procs.PoolOption
	ready    func()
}

// ServeQueue names the queue to serve (default "default").
func ServeQueue(name string) ServeOption { return func(c *serveConfig) { c.queue = name } }

// ServeSlots sets the number of worker processes (default: one per CPU).
func ServeSlots(n int) ServeOption { return func(c *serveConfig) { c.slots = n } }

// ServeName names the host in results and errors (default
// "<hostname>-<pid>").
func ServeName(name string) ServeOption { return func(c *serveConfig) { c.name = name } }

// ServeBuildID makes the host run tasks stamped id instead of BuildID()
// (see WithBuildID).
func ServeBuildID(id string) ServeOption { return func(c *serveConfig) { c.build = id } }

// ServePoolOptions passes options to the host's local procs.Pool
// (WithInitializer, WithMaxTasksPerChild, WithWorkerOptions, ...).
func ServePoolOptions(opts ...procs.PoolOption) ServeOption {
	return func(c *serveConfig) { c.poolOpts = append(c.poolOpts, opts...) }
}

// ServeReady calls fn once the host's workers run and it fetches tasks.
func ServeReady(fn func()) ServeOption { return func(c *serveConfig) { c.ready = fn } }

// Serve makes this process a worker host of the queue: it starts a local
// procs.Pool of worker processes and runs the queue's tasks on it,
// fetching only as many as it has idle workers, so that nothing waits
// behind a long task here while another host is idle, and a task that
// kills its worker takes no other task with it. It advertises its slots
// (the drivers' Pool.Size), heartbeats each running task so that the
// queue's AckWait bounds how long a lost host goes unnoticed, not how long
// a task may run, and refuses tasks of another build with
// ErrBuildMismatch.
//
// A worker process killed mid-task fails that task with its exit code, as
// on one machine, and is replaced. Serve returns nil when ctx ends, after
// the tasks it is running have ended and been answered; it returns an
// error if it cannot start, or if nc is closed under it (a connection
// that is only down reconnects, and Serve goes on).
func Serve(ctx context.Context, nc *nats.Conn, opts ...ServeOption) error {
	cfg := serveConfig{queue: "default", slots: runtime.NumCPU()}
	for _, o := range opts {
		o(&cfg)
	}
	if err := validName("queue", cfg.queue); err != nil {
		return err
	}
	if cfg.slots <= 0 {
		return fmt.Errorf("distpool: serve: %d slots: want at least 1", cfg.slots)
	}
	if cfg.name == "" {
		h, _ := os.Hostname()
		cfg.name = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	if cfg.build == "" {
		cfg.build = buildID()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("distpool: serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	if err := setup(sctx, js); err != nil {
		return err
	}
	cons, err := queueConsumer(sctx, js, cfg.queue)
	if err != nil {
		return err
	}
	kv, err := hostsKV(sctx, js)
	if err != nil {
		return err
	}
	pullers := make([]*puller, cfg.slots)
	for i := range pullers {
		if pullers[i], err = newPuller(nc, cfg.queue); err != nil {
			for _, p := range pullers[:i] {
				p.close()
			}
			return err
		}
	}
	pool, err := procs.NewPool(cfg.slots, cfg.poolOpts...)
	if err != nil {
		for _, p := range pullers {
			p.close()
		}
		return fmt.Errorf("distpool: serve: %w", err)
	}
	defer pool.Terminate()
	h := &host{cfg: cfg, nc: nc, js: js, pool: pool, blobs: &blobs{js: js}, maxPay: int(nc.MaxPayload())}
	h.ackWait.Store(int64(cons.CachedInfo().Config.AckWait))

	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() {
		advertise(bg, kv, hostKey(cfg.queue, cfg.name), hostAd{Slots: cfg.slots, Build: cfg.build})
	})
	wg.Go(func() { h.followAckWait(bg, cons) })
	var slots sync.WaitGroup
	for _, p := range pullers {
		slots.Go(func() { h.slot(ctx, p) })
	}
	if cfg.ready != nil {
		cfg.ready()
	}
	slots.Wait()
	h.answering.Wait()
	stop()
	wg.Wait()
	if ctx.Err() == nil {
		return fmt.Errorf("distpool: serve: %w", nats.ErrConnectionClosed)
	}
	return nil
}

// queueConsumer binds to the queue's consumer, creating it with the
// defaults (AckWait 30s, no retries) if no pool has yet.
func queueConsumer(ctx context.Context, js jetstream.JetStream, queue string) (jetstream.Consumer, error) {
	for range 3 {
		c, err := js.Consumer(ctx, tasksStream, consumerName(queue))
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("distpool: queue %q: %w", queue, err)
		}
		c, err = js.CreateConsumer(ctx, tasksStream, jetstream.ConsumerConfig{
			Durable: consumerName(queue), FilterSubject: taskPrefix + queue + ".>",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxDeliver: 1,
			MaxAckPending: -1,
		})
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerExists) {
			return nil, fmt.Errorf("distpool: queue %q: %w", queue, err)
		}
	}
	return nil, fmt.Errorf("distpool: queue %q: its consumer keeps appearing and vanishing", queue)
}

// Tests make a host die between publishing a result and acking its task.
var dieAfterAnswer atomic.Bool

type host struct {
	cfg     serveConfig
	nc      *nats.Conn
	js      jetstream.JetStream
	pool    *procs.Pool
	ackWait atomic.Int64 // the queue's AckWait, in ns
	blobs   *blobs
	maxPay  int
	// answering counts answers being published: Serve waits for them.
	answering sync.WaitGroup
}

// followAckWait keeps ackWait up to date: a pool may change it.
func (h *host) followAckWait(ctx context.Context, cons jetstream.Consumer) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if info, err := cons.Info(ctx); err == nil {
			h.ackWait.Store(int64(info.Config.AckWait))
		}
	}
}

// slot is one worker's share of the host: it asks for a task only when
// it is idle (one at a time), runs it, answers, and asks again.
func (h *host) slot(ctx context.Context, p *puller) {
	defer p.close()
	for ctx.Err() == nil && !h.nc.IsClosed() {
		m, err := p.next()
		if err != nil {
			// Disconnected, the server restarting, the consumer being
			// made again: try again soon.
			t := time.NewTimer(200 * time.Millisecond)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		if m != nil {
			h.run(m)
		}
	}
}

// A task is what run needs of a task message (taskMsg; jetstream.Msg
// has the same methods).
type task interface {
	Headers() nats.Header
	Data() []byte
	Ack() error
	Term() error
	InProgress() error
}

// run runs one task to its end and answers it: the result is published
// (and stored by the server) before the task is acked, so a host lost in
// between costs a duplicate result, which the pool drops, never a lost
// one.
func (h *host) run(m task) {
	hd := m.Headers()
	reply, id := hd.Get(hdrReply), hd.Get(hdrTask)
	if !strings.HasPrefix(reply, resultPrefix) || id == "" {
		_ = m.Term() // nobody to answer
		return
	}
	answer := func(data []byte, w procs.Worker, err error) {
		out := nats.NewMsg(reply)
		out.Header.Set(hdrTask, id)
		out.Header.Set(hdrWorker, h.cfg.name+"/"+w.Name)
		if w.Name == "" {
			out.Header.Set(hdrWorker, h.cfg.name)
		}
		out.Header.Set(hdrPid, strconv.Itoa(w.Pid))
		out.Header.Set(hdrStatus, "ok")
		out.Data = data
		if err != nil {
			out.Header.Set(hdrStatus, "error")
			out.Data = encodeError(h.cfg.name, err)
		}
		wait := time.Duration(h.ackWait.Load())
		if len(out.Data)+headroom > h.maxPay {
			name := "r." + reply + "." + id
			if perr := h.blobs.put(name, out.Data, wait); perr != nil {
				return // not acked: the pool hears of the task when AckWait runs out
			}
			out.Header.Set(hdrBlob, name)
			out.Data = nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if _, perr := h.js.PublishMsg(ctx, out, jetstream.WithMsgID("r."+reply+"."+id)); perr != nil {
			return // not acked: the task's AckWait runs out, and the pool hears of it
		}
		if dieAfterAnswer.Load() {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL) // tests: lost between answer and ack
		}
		_ = m.Ack()
	}
	if b := hd.Get(hdrBuild); b != h.cfg.build {
		answer(nil, procs.Worker{}, fmt.Errorf("%w: task of build %s, host %s runs build %s", ErrBuildMismatch, b, h.cfg.name, h.cfg.build))
		return
	}
	items, err := strconv.Atoi(hd.Get(hdrItems))
	if err != nil || items <= 0 {
		answer(nil, procs.Worker{}, fmt.Errorf("distpool: task %s: bad item count %q", id, hd.Get(hdrItems)))
		return
	}
	data := m.Data()
	if name := hd.Get(hdrBlob); name != "" {
		if data, err = h.blobs.get(name, time.Duration(h.ackWait.Load())); err != nil {
			answer(nil, procs.Worker{}, err)
			return
		}
	}
	stop := make(chan struct{})
	var beat sync.WaitGroup
	beat.Go(func() { h.heartbeat(m, stop) })
	type outcome struct {
		data []byte
		w    procs.Worker
		err  error
	}
	done := make(chan outcome, 1)
	if err := h.pool.RunEncoded(hd.Get(hdrFunc), items, data, func(data []byte, w procs.Worker, err error) {
		done <- outcome{data, w, err}
	}); err != nil {
		done <- outcome{err: err}
	}
	o := <-done
	// The worker is idle again: the slot may fetch its next task while
	// the answer goes out (heartbeats go on until it is acked).
	h.answering.Go(func() {
		answer(o.data, o.w, o.err)
		close(stop)
		beat.Wait()
	})
}

// heartbeat tells the server the task is in progress every quarter of
// AckWait until stop closes.
func (h *host) heartbeat(m task, stop <-chan struct{}) {
	for {
		t := time.NewTimer(max(time.Duration(h.ackWait.Load())/4, 50*time.Millisecond))
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
			_ = m.InProgress()
		}
	}
}
