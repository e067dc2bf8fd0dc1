package procs

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
)

// The worker side of a pool. A worker is a child started with procs.Start
// running the registered function below. It takes tasks from its own
// queue, runs them one at a time and puts each result on the shared
// result queue.
//
// Before running a task it stores the task's id with the running bit in
// its slot's state word, and clears the bit once the result is put. The
// parent reads the word only after the worker has died (and been reaped),
// so it sees the final value: a running bit names the one task the worker
// died in, which fails; every other task the parent had sent it never
// started, or finished with its result already in the queue, ahead of the
// parent's exit notice. The parent sends the ones that never started to
// other workers. Nothing hangs and nothing runs twice.

// Worker state words: one cache line per worker slot, in an object of
// kind shm.KindPool.
const (
	poolStateName = "procs.pool.state"
	stateStride   = 64
	stateCur      = 0 // uint64: task id << 1 | stateRunning
	stateReady    = 8 // uint32: 1 once the initializer has run
	stateRunning  = 1
)

// workerArg is a worker's Start argument.
type workerArg struct {
	Tasks, Results *ringqueue.Queue
	Slot, Gen      uint32
	MaxTasks       int
	InitFunc       string  // "" for none
	InitArg        lazyGob // gob, as Start would send it
	Side           *Conn   // task payloads with descriptors (pool_side.go)
}

// lazyGob is bytes that a function makes while the enclosing value is
// being encoded, so that handles in them are encoded inside the same
// shm.Export as the rest of a Start argument.
type lazyGob struct {
	encode func() ([]byte, error) // the parent's side
	b      []byte                 // the child's side
}

func (l lazyGob) GobEncode() ([]byte, error) {
	if l.encode != nil {
		return l.encode()
	}
	return l.b, nil
}

func (l *lazyGob) GobDecode(b []byte) error {
	l.b = append([]byte(nil), b...)
	return nil
}

var poolWorker = Register("procs.pool-worker", runWorker)

func runWorker(a workerArg) (struct{}, error) {
	defer a.Results.Detach()
	defer a.Tasks.Detach() // the queue's consumer role passes to the next worker
	a.Tasks.SetWaitPolicy(poolWait)
	a.Results.SetWaitPolicy(poolWait)
	obj, err := a.Tasks.Segment().OpenObject(poolStateName, shm.KindPool, 0, 0)
	if err != nil {
		return struct{}{}, fmt.Errorf("pool worker: %w", err)
	}
	off := uintptr(a.Slot) * stateStride
	if int(off)+stateStride > len(obj.Bytes()) {
		return struct{}{}, fmt.Errorf("pool worker: slot %d: %w", a.Slot, ErrProtocol)
	}
	if a.InitFunc != "" {
		run, ok := lookupFunc(a.InitFunc)
		if !ok {
			return struct{}{}, fmt.Errorf("pool initializer: no function registered as %q", a.InitFunc)
		}
		if _, err, _ := call(run, a.InitArg.b); err != nil {
			return struct{}{}, fmt.Errorf("pool initializer %q: %w", a.InitFunc, err)
		}
	}
	atomic.StoreUint32(obj.Uint32(off+stateReady), 1)
	w := workerLoop{arg: a, cur: obj.Uint64(off + stateCur), fragMax: a.Results.SlotSize() - resultHeader}
	return struct{}{}, w.run()
}

type workerLoop struct {
	arg     workerArg
	cur     *uint64
	fragMax int
	done    int

	arena []byte // messages taken in one batch, copied out of their slots
	ends  []int
	rs    reassembly
	name  string // the task being reassembled
	count uint32
	out   []byte // a result payload
	msg   []byte // a result message

	runName string // the last runner looked up
	runner  poolRunner

	segs []*shm.Segment // segments received on the side connection, kept attached
}

func (w *workerLoop) run() error {
	for {
		limit := 64
		if w.arg.MaxTasks > 0 {
			limit = max(1, min(limit, w.arg.MaxTasks-w.done))
		}
		w.arena, w.ends = w.arena[:0], w.ends[:0]
		_, err := w.arg.Tasks.GetBatch(limit, func(m []byte) {
			w.arena = append(w.arena, m...)
			w.ends = append(w.ends, len(w.arena))
		})
		if errors.Is(err, ringqueue.ErrClosed) {
			return nil // the pool is closing and every task is done
		}
		if err != nil {
			return fmt.Errorf("pool worker: %w", err)
		}
		start := 0
		for _, end := range w.ends {
			m := w.arena[start:end]
			start = end
			quit, err := w.take(m)
			if err != nil || quit {
				return err
			}
		}
	}
}

// take handles one task message; quit says the worker has run its quota.
func (w *workerLoop) take(m []byte) (quit bool, err error) {
	h, err := parseTaskHdr(m)
	if err != nil {
		return false, err
	}
	if h.gen != w.arg.Gen {
		return false, nil // sent to the worker this one replaces: the parent resent it
	}
	body := m[taskHeader:]
	if h.flags&fragFirst != 0 {
		w.name, w.count = string(body[:h.nlen]), h.count
		body = body[h.nlen:]
	}
	if h.flags&fragSide != 0 {
		if len(body) != 0 || w.rs.active {
			return false, fmt.Errorf("%w: side task %d with %d bytes in its message", ErrProtocol, h.id, len(body))
		}
		if err := w.takeSide(h.id, h.total); err != nil {
			return false, err
		}
		w.done++
		return w.arg.MaxTasks > 0 && w.done >= w.arg.MaxTasks, nil
	}
	payload, err := w.rs.add(h.id, h.total, h.flags, body)
	if err != nil || payload == nil {
		return false, err
	}
	if err := w.runTask(h.id, payload); err != nil {
		return false, err
	}
	w.done++
	return w.arg.MaxTasks > 0 && w.done >= w.arg.MaxTasks, nil
}

func (w *workerLoop) runTask(id uint64, payload []byte) error {
	atomic.StoreUint64(w.cur, id<<1|stateRunning)
	t0 := time.Now()
	if w.name != w.runName || w.runner == nil {
		w.runner, _ = lookupPoolRunner(w.name)
		w.runName = w.name
	}
	if w.runner != nil {
		w.out = w.runner(payload, int(w.count), w.out[:0])
	} else {
		status := make([]byte, w.count)
		fails := make([]itemError, w.count)
		for i := range fails {
			status[i] = itemFailed
			fails[i] = itemError{index: i, message: fmt.Sprintf("no function registered as %q in the worker", w.name)}
		}
		w.out = appendResult(w.out[:0], status, fails, nil)
	}
	run := time.Since(t0)
	if err := w.putResult(id, uint64(run), w.out); err != nil {
		return err
	}
	atomic.StoreUint64(w.cur, id<<1)
	if cap(w.out) > 1<<20 {
		w.out = nil
	}
	return nil
}

// putResult puts a result payload, in fragments if it exceeds a slot.
func (w *workerLoop) putResult(id, runNs uint64, payload []byte) error {
	h := resultHdr{id: id, total: uint64(len(payload)), runNs: runNs, slot: w.arg.Slot, gen: w.arg.Gen, kind: msgResult}
	for off := 0; ; {
		n := min(w.fragMax, len(payload)-off)
		h.flags = 0
		if off == 0 {
			h.flags |= fragFirst
		}
		if off+n == len(payload) {
			h.flags |= fragLast
		}
		w.msg = append(w.msg[:0], make([]byte, resultHeader)...)
		h.put(w.msg)
		w.msg = append(w.msg, payload[off:off+n]...)
		if err := w.arg.Results.Put(w.msg); err != nil {
			return fmt.Errorf("pool worker: putting a result: %w", err)
		}
		off += n
		if off == len(payload) {
			return nil
		}
	}
}
