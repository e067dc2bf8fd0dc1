package procs

import (
	"errors"
	"fmt"
	"os"

	"github.com/multiproc-go/multiproc/shm"
)

// Side connections: how shared objects and connections in task arguments
// reach a running worker.
//
// A task's encoding may name segments the worker has not attached (an
// anonymous segment, which it cannot open by name) and connections (whose
// descriptors it does not have). Each worker generation has a duplex pipe
// to the parent, its side connection. A task of a job whose items may hold
// handles (job.carriesHandles) is encoded inside shm.Export, by sendSlow,
// which then sends on the side connection, in one message, the encoding
// and the descriptors of the connections and of the segments this worker
// has not been sent yet, after it has put a task message flagged
// fragSide, which carries no payload, on the worker's queue (that order
// lets a payload larger than the socket's buffers flow while the worker
// reads it). The worker, meeting that message, takes the next side
// message (the parent sends both in the same order, and nothing else
// sends to the worker while sendSlow runs),
// checks that its tag is the task's id, keeps the segments attached for
// later tasks, and runs the task inside shm.Import, where connections take
// their descriptors back.
//
// A replacement worker gets a new side connection and an empty record of
// segments sent. Side messages for a worker that died die with its socket;
// its tasks are re-encoded for the worker they go to next.

// sideChan is the parent's end of one worker generation's side connection.
type sideChan struct {
	conn *Conn
	sent map[string]bool // segments (by ID) this worker has been sent; sendSlow's alone
}

func newSideChan(c *Conn) *sideChan { return &sideChan{conn: c, sent: map[string]bool{}} }

func (s *sideChan) close() {
	if s != nil {
		_ = s.conn.Close()
	}
}

// errNeedsSide: a task names descriptors its worker lacks, so it cannot go
// through the queue alone.
var errNeedsSide = errors.New("procs: pool: task needs the side connection")

// encodeKnown returns job's encoder for tasks that may go through the
// queue: it fails with errNeedsSide when the encoding names a connection
// or a segment not yet sent to this worker. Called with the pool's lock
// held, when no sendSlow runs for this worker: s.sent is not shared.
func (s *sideChan) encodeKnown(j job) func(dst []byte, lo, hi int) ([]byte, error) {
	return func(dst []byte, lo, hi int) ([]byte, error) {
		var out []byte
		segs, files, err := shm.Export(func() error {
			var err error
			out, err = j.encodeTask(dst, lo, hi)
			return err
		})
		if err != nil {
			return nil, err
		}
		need := len(files) > 0
		for _, seg := range segs {
			need = need || s == nil || !s.sent[seg.ID()]
			_ = seg.Detach()
		}
		for _, f := range files {
			_ = f.Close()
		}
		if need {
			return nil, errNeedsSide
		}
		return out, nil
	}
}

// A shipment is a task's encoding and the descriptors to send with it.
type shipment struct {
	id    uint64
	enc   []byte
	segs  []*shm.Segment // not yet sent to this worker
	files []*os.File
}

// prepare encodes st's items and collects what its handles name.
func (s *sideChan) prepare(st slowTask) (*shipment, error) {
	ship := &shipment{id: st.id}
	segs, files, err := shm.Export(func() error {
		var err error
		ship.enc, err = st.job.encodeTask(nil, st.lo, st.hi)
		return err
	})
	if err != nil {
		return nil, err
	}
	ship.files = files
	for _, seg := range segs {
		if s.sent[seg.ID()] {
			_ = seg.Detach() // attached there already
			continue
		}
		ship.segs = append(ship.segs, seg)
	}
	return ship, nil
}

// release lets go of a shipment's descriptors here.
func (ship *shipment) release() {
	for _, seg := range ship.segs {
		_ = seg.Detach()
	}
	for _, f := range ship.files {
		_ = f.Close()
	}
}

// send sends a shipment and releases it.
func (s *sideChan) send(ship *shipment) error {
	defer ship.release()
	if err := s.conn.sendTagged(ship.id, ship.enc, ship.segs, ship.files); err != nil {
		return err
	}
	for _, seg := range ship.segs {
		s.sent[seg.ID()] = true
	}
	return nil
}

// takeSide receives the payload of task id from the side connection and
// runs it with the descriptors that came along.
func (w *workerLoop) takeSide(id, total uint64) error {
	tag, payload, segs, files, err := w.arg.Side.recvTagged()
	if err != nil {
		return fmt.Errorf("pool worker: side connection: %w", err)
	}
	// Kept attached: later tasks' handles find them here by id.
	w.segs = append(w.segs, segs...)
	if tag != id || uint64(len(payload)) != total {
		for _, f := range files {
			_ = f.Close()
		}
		return fmt.Errorf("%w: side message for task %d (%d bytes) where task %d (%d bytes) was due",
			ErrProtocol, tag, len(payload), id, total)
	}
	return shm.Import(files, func() error { return w.runTask(id, payload) })
}
