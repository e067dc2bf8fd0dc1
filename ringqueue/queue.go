package ringqueue

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/multiproc-go/multiproc/shm"
)

// Options configure a queue at creation. Zero fields take defaults.
type Options struct {
	// Capacity is the number of slots, a power of two (0: DefaultCapacity).
	Capacity int
	// SlotSize is the largest message in bytes, 1..MaxSlotSize (0:
	// DefaultSlotSize). Every slot reserves this much.
	SlotSize int
	// Mode is MPMC (the default when zero) or SPSC.
	Mode Mode
}

func (o Options) withDefaults() Options {
	if o.Capacity == 0 {
		o.Capacity = DefaultCapacity
	}
	if o.SlotSize == 0 {
		o.SlotSize = DefaultSlotSize
	}
	if o.Mode == 0 {
		o.Mode = MPMC
	}
	return o
}

// Size returns how many bytes of a segment's heap New will take for o, so
// that callers can size a segment.
func Size(o Options) (int, error) {
	o = o.withDefaults()
	_, size, err := computeGeometry(o.Mode, o.Capacity, o.SlotSize, 0)
	return int(size), err
}

// A Queue is a handle on a bounded ring queue of byte messages in a shared
// segment. A handle may be used by any number of goroutines (SPSC: one per
// role at a time); every process opens its own handle, by name or by
// receiving one as a procs argument. Handles stay valid while their segment
// is attached in the process.
type Queue struct {
	seg   *shm.Segment
	obj   shm.Object
	name  string
	g     geometry
	mask  uint64
	lay   *layout
	slots unsafe.Pointer
	self  uint32 // short form of id, for MPMC slot claims
	id    uint64 // this process's ID (shm.Segment.Self), for SPSC roles

	shm.Attachment // what GobDecode attached; Detach releases it

	// Errors built once, so that the would-block and closed paths of the
	// Try forms do not allocate.
	errFull, errEmpty, errPutClosed, errGetClosed error
	errPutTimeout, errGetTimeout                  error

	// dead is the last claimant found dead by this handle: further claims
	// bearing its short form are reclaimed without waiting again (a
	// producer killed in PutBatch leaves several), but only while its
	// participant slot is unchanged (recover.go).
	dead atomic.Pointer[deadVerdict]
	// stuck tracks a claim seen by the Try forms, which do not wait: after
	// it has blocked them for claimCheckAfter, its claimant is checked.
	stuck stuckWatch
	// policy is this handle's WaitPolicy.
	policy atomic.Int32
	// idleGet and idlePut count wakes that found nobody (gate.go).
	idleGet, idlePut atomic.Uint32

	_    [64]byte
	prod spscSide // SPSC producer state, touched only by the producing goroutine
	_    [64]byte
	cons spscSide // SPSC consumer state
	_    [64]byte
}

// New creates a queue named name in seg. The name must be unused in seg;
// the queue lives until the segment is unlinked and unmapped everywhere
// (there is no per-object free).
func New(seg *shm.Segment, name string, o Options) (*Queue, error) {
	return create(seg, name, o, shm.KindQueue, 0, 0, 0)
}

// Open opens the queue named name in seg, as created by New in this or
// another process. An object of another kind is shm.ErrKindMismatch; a
// header that fails validation is shm.ErrCorrupt (or shm.ErrVersion).
func Open(seg *shm.Segment, name string) (*Queue, error) {
	return open(seg, name, shm.KindQueue, 0, 0)
}

// create is New for layers on top: another kind (JoinableQueue), an
// element type recorded in the directory (Queue[T]), and aux bytes for
// their own shared words.
func create(seg *shm.Segment, name string, o Options, kind shm.Kind, elemSize uint32, fp uint64, aux int) (*Queue, error) {
	o = o.withDefaults()
	g, size, err := computeGeometry(o.Mode, o.Capacity, o.SlotSize, aux)
	if err != nil {
		return nil, fmt.Errorf("ringqueue %q: new: %w", name, err)
	}
	obj, err := seg.Create(shm.Spec{Name: name, Kind: kind, Size: int(size), ElemSize: elemSize, Fingerprint: fp},
		func(mem []byte) error {
			// mem is zero: every slot is free at lap 0, both indices are 0.
			h := (*header)(unsafe.Pointer(&mem[0]))
			h.Magic = magicWord
			h.Version = layoutVersion
			h.Mode = uint32(g.mode)
			h.Capacity = uint32(g.capacity)
			h.SlotSize = uint32(g.slotSize)
			h.Stride = uint32(g.stride)
			h.SlotsOff = slotsOff
			h.AuxOff = g.auxOff
			h.AuxSize = g.auxSize
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("ringqueue %q: new: %w", name, err)
	}
	q := &Queue{}
	q.init(seg, obj, g)
	return q, nil
}

// open is Open for layers on top (see create).
func open(seg *shm.Segment, name string, kind shm.Kind, elemSize uint32, fp uint64) (*Queue, error) {
	q := &Queue{}
	if err := q.openInto(seg, name, kind, elemSize, fp); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *Queue) openInto(seg *shm.Segment, name string, kind shm.Kind, elemSize uint32, fp uint64) error {
	obj, err := seg.OpenObject(name, kind, elemSize, fp)
	if err != nil {
		return fmt.Errorf("ringqueue %q: open: %w", name, err)
	}
	return q.openObject(obj)
}

// openObject makes q a handle on obj, found by name or from a handle,
// once its header and indices pass validation.
func (q *Queue) openObject(obj shm.Object) error {
	g, err := validateObject(obj)
	if err != nil {
		return fmt.Errorf("ringqueue %q: open: %w", obj.Name, err)
	}
	q.init(obj.Segment(), obj, g)
	return nil
}

// validateObject validates a queue object's header and indices.
func validateObject(obj shm.Object) (geometry, error) {
	if obj.Size < slotsOff {
		return geometry{}, fmt.Errorf("%w: queue object of %d bytes, shorter than its %d-byte header", shm.ErrCorrupt, obj.Size, slotsOff)
	}
	lay := (*layout)(obj.Pointer(0))
	// Snapshot first, so that what was checked is what is used: only
	// Closed may change meanwhile, and it is re-read atomically later.
	h := lay.Hdr
	g, err := validate(&h, obj.Size)
	if err != nil {
		return geometry{}, err
	}
	// The indices move while others use the queue: check a pair that was
	// true at one instant (Head unchanged across the load of Tail). A
	// queue so busy that no such pair turns up is not corrupt enough to
	// matter here: the protocol checks every word it uses anyway.
	for range 8 {
		head := atomic.LoadUint64(&lay.Head.Index)
		tail := atomic.LoadUint64(&lay.Tail.Index)
		if atomic.LoadUint64(&lay.Head.Index) == head {
			return g, checkIndices(g, head, tail)
		}
	}
	return g, nil
}

func (q *Queue) init(seg *shm.Segment, obj shm.Object, g geometry) {
	q.seg, q.obj, q.name, q.g = seg, obj, obj.Name, g
	q.mask = g.capacity - 1
	q.lay = (*layout)(obj.Pointer(0))
	q.slots = obj.Pointer(slotsOff)
	q.id = seg.Self()
	q.self = shm.Short(q.id)
	n := q.name
	q.errFull = fmt.Errorf("ringqueue %q: put: %w", n, ErrFull)
	q.errEmpty = fmt.Errorf("ringqueue %q: get: %w", n, ErrEmpty)
	q.errPutClosed = fmt.Errorf("ringqueue %q: put: %w", n, ErrClosed)
	q.errGetClosed = fmt.Errorf("ringqueue %q: get: %w", n, ErrClosed)
	q.errPutTimeout = fmt.Errorf("ringqueue %q: put: %w: %w", n, ErrTimeout, ErrFull)
	q.errGetTimeout = fmt.Errorf("ringqueue %q: get: %w: %w", n, ErrTimeout, ErrEmpty)
}

// Name returns the queue's name in its segment.
func (q *Queue) Name() string { return q.name }

// Segment returns the segment the queue lives in.
func (q *Queue) Segment() *shm.Segment { return q.seg }

// Mode returns MPMC or SPSC.
func (q *Queue) Mode() Mode { return q.g.mode }

// Cap returns the number of slots.
func (q *Queue) Cap() int { return int(q.g.capacity) }

// SlotSize returns the largest message the queue carries, in bytes.
func (q *Queue) SlotSize() int { return q.g.slotSize }

// Len returns the number of messages queued or being written or read
// right now (MPMC: skipped messages that no consumer has passed over yet
// count too); by the time it returns, others may have changed it.
func (q *Queue) Len() int {
	head := atomic.LoadUint64(&q.lay.Head.Index)
	tail := atomic.LoadUint64(&q.lay.Tail.Index) &^ q.closedBit()
	d := int64(tail - head)
	// MPMC: head may run a few positions past tail after dead producers'
	// claims were skipped, and either index may lag behind its helpers.
	return int(min(max(d, 0), int64(q.g.capacity)))
}

// Empty reports whether Len is 0.
func (q *Queue) Empty() bool { return q.Len() == 0 }

// Full reports whether Len is Cap.
func (q *Queue) Full() bool { return q.Len() >= int(q.g.capacity) }

func (q *Queue) closedBit() uint64 { return closedBitOf(q.g.mode) }

// GobEncode encodes a handle on the queue that GobDecode re-opens in
// another process (procs passes queues as arguments this way).
func (q *Queue) GobEncode() ([]byte, error) { return shm.EncodeRef(q.seg, q.name, 0) }

// GobDecode opens the queue an encoded handle names, attaching its
// segment; Detach releases that attachment.
func (q *Queue) GobDecode(b []byte) error {
	return q.decodeRef(b, shm.KindQueue, 0, 0)
}

// decodeRef is GobDecode for layers on top (see create).
func (q *Queue) decodeRef(b []byte, kind shm.Kind, elemSize uint32, fp uint64) error {
	want := shm.Want{Kind: kind, ElemSize: elemSize, Fingerprint: fp}
	return shm.Decode(&q.Attachment, b, want, func(obj shm.Object, _ uint64) error { return q.openObject(obj) })
}

// Detach gives up this handle: the SPSC roles it holds pass to the next
// process that asks, and a segment attached by GobDecode is closed. The
// queue itself lives on; Detach is not Close. Using the handle afterwards
// is an error (or, if its segment was closed, a fault).
func (q *Queue) Detach() error {
	if q.g.mode == SPSC {
		// Only the roles this handle holds: another handle of this process
		// (same ID) may hold the other side, and clearing its word would
		// let a second process take that side while it still works it.
		if q.prod.role {
			atomic.CompareAndSwapUint64(&q.lay.Tail.Role, q.id, 0)
		}
		if q.cons.role {
			atomic.CompareAndSwapUint64(&q.lay.Head.Role, q.id, 0)
		}
		q.prod.role, q.cons.role = false, false
	}
	return q.Attachment.Detach()
}

// aux returns the aux area of layers on top: zero at creation, shared.
func (q *Queue) aux() []byte {
	if q.g.auxSize == 0 {
		return nil
	}
	return q.obj.Bytes()[q.g.auxOff : q.g.auxOff+q.g.auxSize]
}

// errf wraps err with the queue's name and the operation.
func (q *Queue) errf(op string, err error) error {
	return fmt.Errorf("ringqueue %q: %s: %w", q.name, op, err)
}

func (q *Queue) tooLarge(op string, n int) error {
	return fmt.Errorf("ringqueue %q: %s: %w: %d bytes, slot size %d", q.name, op, ErrTooLarge, n, q.g.slotSize)
}

var errWouldBlock = errors.New("would block") // internal: the Try form found no room / no message
