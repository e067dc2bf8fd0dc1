package procs

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/multiproc-go/multiproc/ringqueue"
)

// Scheduling. The parent sends each task to one worker's queue and keeps
// it in that worker's in-flight list, in order. A worker runs its tasks in
// that order, so its next result always answers the front of the list.
//
// How many tasks a worker holds at once (its depth) adapts to how long
// tasks take: enough to cover the round trip when tasks are short (so a
// worker never waits for the parent), one or two when they are long (so
// a long task holds up few others while another worker idles). Tasks
// beyond every worker's depth wait in the backlog and go out as results
// come back.
//
// One goroutine, the collector, takes results from the shared result
// queue. Exit notices travel the same queue, posted by a watcher after
// the worker has ended: a worker's results all come before its notice, so
// when the notice is handled the worker's in-flight list holds only the
// task it died in (named by its state word) and tasks it never started.

// depthFor is how much work, in time, a worker is given ahead.
const depthFor = time.Millisecond

// taskList is a FIFO of tasks.
type taskList struct {
	ts   []*task
	head int
}

func (l *taskList) len() int { return len(l.ts) - l.head }

func (l *taskList) push(t *task) { l.ts = append(l.ts, t) }

func (l *taskList) pop() *task {
	if l.head == len(l.ts) {
		return nil
	}
	t := l.ts[l.head]
	l.ts[l.head] = nil
	l.head++
	if l.head == len(l.ts) {
		l.ts, l.head = l.ts[:0], 0
	}
	return t
}

// pushFront puts ts, in order, before everything else.
func (l *taskList) pushFront(ts []*task) {
	if len(ts) == 0 {
		return
	}
	rest := l.ts[l.head:]
	l.ts = append(append(make([]*task, 0, len(ts)+len(rest)), ts...), rest...)
	l.head = 0
}

// submit queues the tasks of j: n tasks, task i covering items bound(i).
func (p *Pool) submit(j job, n int, bound func(i int) (lo, hi int)) error {
	if len(j.funcName()) > 255 {
		return fmt.Errorf("procs: pool: function name %q longer than 255 bytes", j.funcName())
	}
	ts := make([]task, n)
	p.mu.Lock()
	switch p.phase {
	case poolClosing, poolTerminated:
		p.mu.Unlock()
		return fmt.Errorf("procs: pool submit: %w", ErrPoolClosed)
	case poolBroken:
		err := p.brokenErr
		p.mu.Unlock()
		return err
	}
	for i := range ts {
		ts[i].job = j
		ts[i].lo, ts[i].hi = bound(i)
		p.backlog.push(&ts[i])
	}
	p.pending += n
	p.dispatchLocked()
	p.unlockAndFinish()
	return nil
}

func (p *Pool) depthLocked() int {
	if p.avgRun <= 0 {
		return min(2, p.maxDepth)
	}
	return max(1, min(p.maxDepth, 1+int(float64(depthFor)/p.avgRun)))
}

// pickLocked returns the live worker with the fewest tasks, if it has
// room for more. Ties go to the worker picked last: it is the one most
// likely still awake, spinning for work, where a worker that has parked
// costs a futex wake-up (15-35 µs on a KVM guest) per hand-off.
func (p *Pool) pickLocked(depth int) *slotState {
	var best *slotState
	for k := range p.n {
		w := p.workers[(p.rr+k)%p.n]
		if w.live && !w.busy && len(w.inflight) < depth && (best == nil || len(w.inflight) < len(best.inflight)) {
			best = w
		}
	}
	if best != nil {
		p.rr = int(best.slot)
	}
	return best
}

// dispatchLocked sends backlog tasks to workers with room for them. Puts
// never block here: a worker's queue has room for twice its depth (its
// own tasks plus stale ones a dead predecessor left), and what does not
// fit in a slot goes through sendSlow on its own goroutine.
func (p *Pool) dispatchLocked() {
	if p.phase == poolTerminated || p.phase == poolBroken {
		return
	}
	depth := p.depthLocked()
	var batch []*task
	for p.backlog.len() > 0 {
		w := p.pickLocked(depth)
		if w == nil {
			return
		}
		batch = batch[:0]
		for len(batch) < min(depth-len(w.inflight), 64) {
			t := p.backlog.pop()
			if t == nil {
				break
			}
			if t.job.canceled() {
				p.failTaskLocked(t, errCanceled)
				continue
			}
			p.nextID++
			t.id = p.nextID
			batch = append(batch, t)
		}
		if len(batch) == 0 {
			continue
		}
		w.inflight = append(w.inflight, batch...)
		n, _ := w.tasks.TryPutBatchFunc(len(batch), func(i int, slot []byte) int {
			return fillTask(batch[i], w.gen, w.side, slot)
		})
		if n == len(batch) {
			continue
		}
		// batch[n] did not go: it cannot be encoded, or needs more than a
		// slot, or (never expected) the queue is full or closed.
		rest := batch[n:]
		if t := rest[0]; t.encErr != nil {
			p.dropInflightLocked(w, rest)
			p.failTaskLocked(t, t.encErr)
			p.backlog.pushFront(rest[1:])
			continue
		}
		// sendSlow works on copies: once this worker dies its tasks may be
		// sent elsewhere (new id, new encoding) while it is still unwinding.
		slow := make([]slowTask, len(rest))
		for i, t := range rest {
			slow[i] = slowTask{t: t, job: t.job, lo: t.lo, hi: t.hi, id: t.id, enc: t.enc, encErr: t.encErr}
			t.enc, t.encErr = nil, nil
		}
		w.busy = true
		p.bg.Add(1)
		go p.sendSlow(w, w.gen, w.ctx, w.side, slow)
	}
}

// slowTask is what sendSlow needs of a task, copied under the lock.
type slowTask struct {
	t      *task // for identity only
	job    job
	lo, hi int
	id     uint64
	enc    []byte
	encErr error
}

var errCanceled = errors.New("procs: pool: result no longer wanted")

// dropInflightLocked removes ts, the tail of w's in-flight list.
func (p *Pool) dropInflightLocked(w *slotState, ts []*task) {
	w.inflight = w.inflight[:len(w.inflight)-len(ts)]
}

// fillTask writes t into a queue slot and returns its length, or -1 when
// it does not fit (then t.enc keeps the encoding), cannot be encoded
// (t.encErr), or names descriptors the worker lacks (neither is set:
// sendSlow sends it on the side connection, pool_side.go).
func fillTask(t *task, gen uint32, side *sideChan, slot []byte) int {
	encode := t.job.encodeTask
	if t.job.carriesHandles() {
		encode = side.encodeKnown(t.job)
	}
	name := t.job.funcName()
	at := taskHeader + len(name)
	if at > len(slot) {
		t.enc, t.encErr = encode(nil, t.lo, t.hi)
		if t.encErr == errNeedsSide {
			t.encErr = nil
		}
		return -1
	}
	dst := slot[at:at:len(slot)]
	out, err := encode(dst, t.lo, t.hi)
	if err == errNeedsSide {
		return -1
	}
	if err != nil {
		t.encErr = err
		return -1
	}
	if len(out) > 0 && unsafe.SliceData(out) != unsafe.SliceData(slot[at:]) {
		t.enc = out // it outgrew the slot: append moved it
		return -1
	}
	taskHdr{id: t.id, total: uint64(len(out)), gen: gen, count: uint32(t.hi - t.lo), flags: fragWhole, nlen: uint8(len(name))}.put(slot)
	copy(slot[taskHeader:], name)
	return at + len(out)
}

// sendSlow puts tasks to w's queue in fragments, blocking as the worker
// makes room, until done or the worker dies (ctx). It runs on its own
// goroutine so that nothing waits for it: while w.busy, nobody else puts
// to w's queue.
func (p *Pool) sendSlow(w *slotState, gen uint32, ctx context.Context, side *sideChan, ts []slowTask) {
	defer p.bg.Done()
	slotSize := w.tasks.SlotSize()
	msg := make([]byte, 0, slotSize)
	for _, st := range ts {
		enc, err := st.enc, st.encErr
		var ship *shipment
		switch {
		case enc != nil || err != nil:
		case st.job.carriesHandles():
			ship, err = side.prepare(st) // items never change: no lock needed
			if ship != nil && len(ship.segs) == 0 && len(ship.files) == 0 {
				enc, ship = ship.enc, nil // nothing to pass: the queue carries it
			}
		default:
			enc, err = st.job.encodeTask(nil, st.lo, st.hi)
		}
		if err != nil {
			// Never sent: take it out of the list before a later result
			// arrives, so the list stays in the worker's order.
			p.mu.Lock()
			if w.gen == gen {
				for i, x := range w.inflight {
					if x == st.t && x.id == st.id {
						w.inflight = append(w.inflight[:i], w.inflight[i+1:]...)
						p.failTaskLocked(x, err)
						break
					}
				}
			}
			p.unlockAndFinish()
			continue
		}
		name := st.job.funcName()
		if ship != nil {
			// The message that tells the worker to take the payload from
			// the side connection, then the payload: in this order, a
			// payload larger than the socket's buffers is read while it
			// is sent, where the other order would wait for a reader that
			// waits for the message.
			msg = append(msg[:0], make([]byte, taskHeader)...)
			msg = append(msg, name...)
			taskHdr{id: st.id, total: uint64(len(ship.enc)), gen: gen, count: uint32(st.hi - st.lo),
				flags: fragWhole | fragSide, nlen: uint8(len(name))}.put(msg)
			err := w.tasks.PutContext(ctx, msg)
			if err == nil {
				err = side.send(ship)
			} else {
				ship.release()
			}
			if err != nil {
				// The worker died (its tasks are resent by the exit
				// handling) or the pool ended.
				p.mu.Lock()
				w.busy = false
				p.unlockAndFinish()
				return
			}
			continue
		}
		h := taskHdr{id: st.id, total: uint64(len(enc)), gen: gen, count: uint32(st.hi - st.lo), flags: fragFirst, nlen: uint8(len(name))}
		for off := 0; ; {
			msg = append(msg[:0], make([]byte, taskHeader)...)
			if off == 0 {
				msg = append(msg, name...)
			}
			k := min(slotSize-len(msg), len(enc)-off)
			msg = append(msg, enc[off:off+k]...)
			off += k
			if off == len(enc) {
				h.flags |= fragLast
			}
			h.put(msg)
			if err := w.tasks.PutContext(ctx, msg); err != nil {
				// The worker died (its tasks are resent by the exit
				// handling) or the pool ended.
				p.mu.Lock()
				w.busy = false
				p.unlockAndFinish()
				return
			}
			if off == len(enc) {
				break
			}
			h.flags, h.nlen = 0, 0
		}
	}
	p.mu.Lock()
	w.busy = false
	p.dispatchLocked()
	p.unlockAndFinish()
}

// collect is the collector goroutine: it takes results and notices off
// the result queue until the queue is closed and drained.
func (p *Pool) collect() {
	defer close(p.collectorDone)
	var arena []byte
	var ends []int
	for {
		arena, ends = arena[:0], ends[:0]
		_, err := p.results.GetBatch(256, func(m []byte) {
			arena = append(arena, m...)
			ends = append(ends, len(arena))
		})
		if err != nil {
			if !errors.Is(err, ringqueue.ErrClosed) {
				p.mu.Lock()
				p.breakLocked(fmt.Errorf("result queue: %w", err))
				p.unlockAndFinish()
			}
			return
		}
		p.mu.Lock()
		start := 0
		for _, end := range ends {
			p.handleLocked(arena[start:end])
			start = end
		}
		p.dispatchLocked()
		p.maybeFinishLocked()
		woke := len(p.finished) > 0
		p.unlockAndFinish()
		if woke {
			// Finishing a job readied the goroutines waiting on it, into
			// this P's run-next slot. Left there they would wait while
			// this goroutine spins in GetBatch (tens of µs); yielding runs
			// them now, on this thread, with no thread to wake.
			runtime.Gosched()
		}
		if cap(arena) > 4<<20 {
			arena = nil
		}
	}
}

func (p *Pool) handleLocked(msg []byte) {
	h, err := parseResultHdr(msg)
	if h.slot >= uint32(p.n) {
		return // cannot tell whose it is (a message shorter than a header reads as slot ^0)
	}
	w := p.workers[h.slot]
	if h.gen != w.gen || !w.live {
		return // from a worker already replaced
	}
	if err != nil {
		p.killWorkerLocked(w, err)
		return
	}
	if h.kind == msgExited {
		p.workerExitedLocked(w)
		return
	}
	if p.phase == poolTerminated || p.phase == poolBroken {
		return // its task has failed already
	}
	payload, err := w.rs.add(h.id, h.total, h.flags, msg[resultHeader:])
	if err != nil {
		p.killWorkerLocked(w, err)
		return
	}
	if payload == nil {
		return // more fragments to come
	}
	if len(w.inflight) == 0 || w.inflight[0].id != h.id {
		p.killWorkerLocked(w, fmt.Errorf("%w: result for task %d out of turn", ErrProtocol, h.id))
		return
	}
	t := w.inflight[0]
	w.inflight[0] = nil
	w.inflight = w.inflight[1:]
	p.pending--
	// A moving average (1/8) of the workers' time per task sets the depth.
	if run := float64(h.runNs); p.avgRun == 0 {
		p.avgRun = max(run, 1)
	} else {
		p.avgRun += (max(run, 1) - p.avgRun) / 8
	}
	if t.job.deliver(t.lo, t.hi, payload, workerRef{w.proc.Name(), w.proc.Pid()}) {
		p.finished = append(p.finished, t.job)
	}
}

// killWorkerLocked kills a worker that broke the protocol; its exit
// notice settles its tasks, the one it was running failing with why.
func (p *Pool) killWorkerLocked(w *slotState, err error) {
	if w.killedBy == nil {
		w.killedBy = err
	}
	_ = w.proc.Kill()
}

// workerExitedLocked settles the tasks of a worker that has ended and
// starts its replacement.
func (p *Pool) workerExitedLocked(w *slotState) {
	w.live = false
	w.rs.reset()
	code, _ := w.proc.ExitCode()
	msg := ""
	var ee *ExitError
	if errors.As(w.proc.Join(), &ee) {
		msg = ee.Message
	}
	if w.killedBy != nil {
		msg = w.killedBy.Error()
	}
	off := uintptr(w.slot) * stateStride
	cur := atomic.LoadUint64(p.state.Uint64(off + stateCur))
	ready := atomic.LoadUint32(p.state.Uint32(off+stateReady)) == 1
	var redo []*task
	for _, t := range w.inflight {
		if cur&stateRunning != 0 && cur>>1 == t.id {
			p.failTaskLocked(t, &TaskError{Func: t.job.funcName(), Worker: w.proc.Name(), Pid: w.proc.Pid(),
				Died: true, ExitCode: code, Message: msg})
			continue
		}
		redo = append(redo, t)
	}
	w.inflight = nil
	if p.phase == poolTerminated || p.phase == poolBroken {
		for _, t := range redo {
			p.failTaskLocked(t, p.endErrLocked())
		}
		return
	}
	p.backlog.pushFront(redo)
	if !ready && code > 0 && w.killedBy == nil {
		// It failed before taking a task: its initializer (or its set-up)
		// failed, and would fail again in every replacement.
		p.breakLocked(fmt.Errorf("worker %q: %s", w.proc.Name(), orExit(msg, code)))
		return
	}
	// A new generation: what is left in the queue for the dead worker is
	// skipped by its replacement, and late messages of the old are ignored.
	w.gen++
	w.killedBy = nil
	atomic.StoreUint64(p.state.Uint64(off+stateCur), 0)
	atomic.StoreUint32(p.state.Uint32(off+stateReady), 0)
	if p.phase == poolRunning || (p.phase == poolClosing && !p.queuesClosed) {
		p.replaceLocked(w)
	}
}

func (p *Pool) endErrLocked() error {
	if p.phase == poolBroken {
		return p.brokenErr
	}
	return fmt.Errorf("procs: pool: %w", ErrPoolTerminated)
}

func orExit(msg string, code int) string {
	if msg != "" {
		return msg
	}
	return fmt.Sprintf("exit code %d", code)
}

// replaceLocked starts a new worker for w's slot on another goroutine (a
// start takes milliseconds; results keep flowing meanwhile).
func (p *Pool) replaceLocked(w *slotState) {
	w.starting = true
	gen := w.gen
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		proc, side, err := p.spawn(w.slot, gen)
		p.mu.Lock()
		w.starting = false
		if err != nil {
			w.down = true
			if p.allDownLocked() {
				p.breakLocked(fmt.Errorf("no worker can be started: %w", err))
			}
		} else {
			p.adopt(w, proc, side)
		}
		p.dispatchLocked()
		p.maybeFinishLocked()
		p.unlockAndFinish()
	}()
}

func (p *Pool) allDownLocked() bool {
	for _, w := range p.workers {
		if !w.down {
			return false
		}
	}
	return true
}
