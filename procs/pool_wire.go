package procs

import (
	"encoding/binary"
	"fmt"
)

// Pool messages. Every ring-queue slot holds one message: a fixed header,
// little endian, then bytes. A task or result larger than a slot is split
// into fragments that travel in consecutive slots of the same queue: the
// first carries the total length, the last is flagged. A task queue has
// one producer (the parent) and one consumer (the worker); a worker's
// results are in order among themselves in the shared result queue, so
// fragments are reassembled per worker.
//
// Task message (parent -> a worker's queue):
//
//	[0:8]   id        dispatch id, unique in the pool
//	[8:16]  total     payload bytes of the whole task (all fragments)
//	[16:20] gen       the worker slot's generation it was sent to
//	[20:24] count     items in the task
//	[24]    flags     fragFirst | fragLast, fragSide
//	[25]    nameLen   first fragment: length of the function's name
//	[26:32] zero
//	[32:]   first fragment: name, then payload; later ones: payload
//
// Result message (worker -> the result queue), and the parent's notices:
//
//	[0:8]   id        the task's dispatch id
//	[8:16]  total     payload bytes of the whole result
//	[16:24] runNs     the worker's time on the task
//	[24:28] slot      the worker's slot
//	[28:32] gen       the worker's generation
//	[32]    kind      msgResult or msgExited
//	[33]    flags     fragFirst | fragLast
//	[34:40] zero
//	[40:]   payload (fragment)
//
// Generations: a slot's generation grows each time its worker is
// replaced. A replacement skips task messages of older generations left
// in its queue (the parent sent those tasks elsewhere), and the parent
// ignores results and notices of older generations.
const (
	taskHeader   = 32
	resultHeader = 40

	fragFirst = 1 << 0
	fragLast  = 1 << 1
	fragWhole = fragFirst | fragLast
	// fragSide: a whole task whose payload, with the descriptors of the
	// shared objects it holds, travels on the worker's side connection
	// (pool_side.go); the message itself carries the name only.
	fragSide = 1 << 2

	msgResult = 1
	msgExited = 2 // posted by the parent's watcher once a worker has ended
)

type taskHdr struct {
	id, total   uint64
	gen, count  uint32
	flags, nlen uint8
}

func (h taskHdr) put(b []byte) {
	binary.LittleEndian.PutUint64(b[0:], h.id)
	binary.LittleEndian.PutUint64(b[8:], h.total)
	binary.LittleEndian.PutUint32(b[16:], h.gen)
	binary.LittleEndian.PutUint32(b[20:], h.count)
	b[24], b[25] = h.flags, h.nlen
	clear(b[26:32])
}

func parseTaskHdr(b []byte) (taskHdr, error) {
	if len(b) < taskHeader {
		return taskHdr{}, fmt.Errorf("%w: task message of %d bytes", ErrProtocol, len(b))
	}
	h := taskHdr{
		id: binary.LittleEndian.Uint64(b[0:]), total: binary.LittleEndian.Uint64(b[8:]),
		gen: binary.LittleEndian.Uint32(b[16:]), count: binary.LittleEndian.Uint32(b[20:]),
		flags: b[24], nlen: b[25],
	}
	if h.flags&^(fragWhole|fragSide) != 0 || (h.flags&fragSide != 0 && h.flags&fragWhole != fragWhole) ||
		(h.flags&fragFirst == 0 && h.nlen != 0) || taskHeader+int(h.nlen) > len(b) {
		return taskHdr{}, fmt.Errorf("%w: bad task header % x", ErrProtocol, b[:taskHeader])
	}
	return h, nil
}

type resultHdr struct {
	id, total, runNs uint64
	slot, gen        uint32
	kind, flags      uint8
}

func (h resultHdr) put(b []byte) {
	binary.LittleEndian.PutUint64(b[0:], h.id)
	binary.LittleEndian.PutUint64(b[8:], h.total)
	binary.LittleEndian.PutUint64(b[16:], h.runNs)
	binary.LittleEndian.PutUint32(b[24:], h.slot)
	binary.LittleEndian.PutUint32(b[28:], h.gen)
	b[32], b[33] = h.kind, h.flags
	clear(b[34:40])
}

// parseResultHdr parses a result header. A message too short for one
// reads as slot ^0, which names no worker.
func parseResultHdr(b []byte) (resultHdr, error) {
	if len(b) < resultHeader {
		return resultHdr{slot: ^uint32(0)}, fmt.Errorf("%w: result message of %d bytes", ErrProtocol, len(b))
	}
	h := resultHdr{
		id: binary.LittleEndian.Uint64(b[0:]), total: binary.LittleEndian.Uint64(b[8:]),
		runNs: binary.LittleEndian.Uint64(b[16:]),
		slot:  binary.LittleEndian.Uint32(b[24:]), gen: binary.LittleEndian.Uint32(b[28:]),
		kind: b[32], flags: b[33],
	}
	if (h.kind != msgResult && h.kind != msgExited) || h.flags&^fragWhole != 0 {
		return h, fmt.Errorf("%w: bad result header % x", ErrProtocol, b[:resultHeader])
	}
	return h, nil
}

// A reassembly collects one message's fragments. Its buffer grows with
// the bytes that arrive, never to more than the announced total, so a
// lying total cannot make the receiver allocate what was not sent.
type reassembly struct {
	active bool
	id     uint64
	total  uint64
	buf    []byte
}

// add takes one fragment and returns the whole payload once the last has
// arrived (nil, nil before).
func (r *reassembly) add(id, total uint64, flags uint8, frag []byte) ([]byte, error) {
	if flags&fragFirst != 0 {
		if r.active {
			return nil, fmt.Errorf("%w: message %d started inside message %d", ErrProtocol, id, r.id)
		}
		if flags&fragLast != 0 {
			if uint64(len(frag)) != total {
				return nil, fmt.Errorf("%w: message %d has %d bytes, header says %d", ErrProtocol, id, len(frag), total)
			}
			return frag, nil // whole: no copy
		}
		r.active, r.id, r.total, r.buf = true, id, total, append(r.buf[:0], frag...)
	} else {
		if !r.active || r.id != id {
			return nil, fmt.Errorf("%w: stray fragment of message %d", ErrProtocol, id)
		}
		r.buf = append(r.buf, frag...)
	}
	if uint64(len(r.buf)) > r.total {
		r.reset()
		return nil, fmt.Errorf("%w: message %d longer than its announced %d bytes", ErrProtocol, id, r.total)
	}
	if flags&fragLast == 0 {
		return nil, nil
	}
	if uint64(len(r.buf)) != r.total {
		r.reset()
		return nil, fmt.Errorf("%w: message %d has %d bytes, header says %d", ErrProtocol, id, len(r.buf), r.total)
	}
	r.active = false
	return r.buf, nil
}

func (r *reassembly) reset() {
	r.active = false
	if cap(r.buf) > 1<<20 {
		r.buf = nil // do not keep a large message's buffer
	}
	r.buf = r.buf[:0]
}

// Result payload, as a worker's runner writes it for a task of n items:
//
//	uvarint n
//	n status bytes: itemOK, itemFailed, itemPanicked
//	per failed or panicked item, in order: uvarint len + message; a
//	  panicked one then uvarint len + stack
//	the successful results, encoded together by the result type's codec
const (
	itemOK       = 0
	itemFailed   = 1
	itemPanicked = 2
)

// itemError is one failed item as the runner reported it.
type itemError struct {
	index    int
	message  string
	stack    string
	panicked bool
}

// parseResult splits a result payload into its statuses, its failures and
// the encoded successful values.
func parseResult(b []byte, n int) (status []byte, fails []itemError, values []byte, err error) {
	bad := func(what string) error { return fmt.Errorf("%w: result payload: %s", ErrProtocol, what) }
	m, k := binary.Uvarint(b)
	if k <= 0 || m != uint64(n) {
		return nil, nil, nil, bad(fmt.Sprintf("item count %d, want %d", m, n))
	}
	b = b[k:]
	if len(b) < n {
		return nil, nil, nil, bad("short status")
	}
	status, b = b[:n], b[n:]
	str := func() (string, bool) {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return "", false
		}
		s := string(b[k : k+int(l)])
		b = b[k+int(l):]
		return s, true
	}
	for i, s := range status {
		switch s {
		case itemOK:
			continue
		case itemFailed, itemPanicked:
		default:
			return nil, nil, nil, bad(fmt.Sprintf("status %d", s))
		}
		e := itemError{index: i, panicked: s == itemPanicked}
		var ok bool
		if e.message, ok = str(); !ok {
			return nil, nil, nil, bad("short message")
		}
		if e.panicked {
			if e.stack, ok = str(); !ok {
				return nil, nil, nil, bad("short stack")
			}
		}
		fails = append(fails, e)
	}
	return status, fails, b, nil
}
