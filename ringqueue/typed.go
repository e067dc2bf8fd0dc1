package ringqueue

// # Typed queues
//
// Typed[T] is a queue of T values over the byte queue. NewTyped picks the
// encoding from T once, at construction:
//
//   - Raw, for a fixed-size T (internal/layout.FixedSize: no pointers,
//     strings, slices, maps, channels, funcs or interfaces at any depth):
//     a message is T's unsafe.Sizeof(T) bytes, copied straight from the
//     caller's value into the slot and back out. No serialization, no
//     allocation; the slot size is sizeof(T). The element size and
//     layout.Fingerprint(T) are recorded in the segment's directory, so
//     that OpenTyped with a T of another layout fails with
//     shm.ErrTypeMismatch instead of reading garbage.
//   - Gob, for any other T (Python's pickling Queue): a message is a
//     self-contained gob stream of one value. The slot size is what
//     Options say (DefaultSlotSize if zero); a value whose encoding does
//     not fit is refused with ErrTooLarge naming both sizes. The directory
//     records a fingerprint of T's gob shape (exported field names and
//     kinds, recursively, pointers flattened, as gob matches them).
//
// Blocking, timeouts, contexts and Close behave exactly as in the byte
// API, because each typed call hands its bound to the byte queue's own
// claim and wait (typed_ops.go): Put blocks while full,
// Get while empty, TryX never blocks, XContext and XTimeout bound the
// wait (ErrTimeout also wraps ErrFull or ErrEmpty), Close fails later puts
// with ErrClosed and lets gets drain first.
//
// A raw Put or Get copies the value between the caller and the slot as a
// T, the byte API's own steps with a typed copy (typed_raw.go says what
// that saves). A gob Get takes the
// message in place (Take), decodes it straight from the slot and releases
// the slot. A message that cannot be decoded (raw: a length other than
// sizeof(T), which only corrupt shared memory can produce; gob: a stream
// gob rejects, or a GobDecode that panics) is consumed and reported, so
// one bad message never wedges the queue: raw reports shm.ErrCorrupt, gob
// ErrDecode (a panic as a *DecodePanicError wrapped with ErrDecode, since
// a message is input from another process and must not take the consumer
// down nor leave its slot claimed).
//
// Crashes are the byte queue's: a producer killed mid-put leaves nothing
// (its claim is skipped), a consumer killed mid-get loses that value in
// MPMC (at most once) and leaves it to the next consumer in SPSC (at least
// once). A value is never torn, since it is one message.
//
// # Gob messages are self-contained
//
// A gob stream sends a type's definition once, then values that refer to
// it by a type id; ids are assigned per process. Consumers in other
// processes may see any message first, so every message must carry the
// definitions it refers to. For a T without interface types anywhere in
// it (the common case), all of T's definitions are sent by an encoder's
// first Encode and never again: each pooled encoder keeps those
// definition messages and writes them in front of every later value
// message, so encoders are reused and a message is still self-contained.
// Consumers keep a few decoders keyed by those definition bytes (one set
// per producing process, usually): a message whose definitions a cached
// decoder has read is decoded by that decoder from its value message on.
// For a T with interface types, a value can bring new definitions nested
// inside itself, which neither trick can see: then every message gets a
// fresh encoder and a fresh decoder (more allocation, same semantics).
// The definitions cost bytes in every message: tens of bytes for a small
// struct, a few hundred for a nested one (122 for the five-field struct of
// the tests); size slots with that in mind. Gob's own rules apply:
// unexported fields do not travel, and fields holding zero values (empty
// slices and maps, pointers to zero values) arrive as zero values (nil).
//
// # Python mapping
//
//	multiprocessing           ringqueue
//	Queue(maxsize)            NewTyped[T](seg, name, Options{Capacity: n})  (n a power of two)
//	SimpleQueue()             NewTyped[T] (put/get/empty/close are the same calls)
//	JoinableQueue(maxsize)    NewJoinable[T]
//	q.put(obj)                q.Put(v)
//	q.put(obj, timeout=t)     q.PutTimeout(v, t)   (or PutContext)
//	q.put_nowait(obj)         q.TryPut(v)          (queue.Full → ErrFull)
//	q.get()                   q.Get()
//	q.get(timeout=t)          q.GetTimeout(t)      (or GetContext)
//	q.get_nowait()            q.TryGet()           (queue.Empty → ErrEmpty)
//	q.qsize()                 q.Len()
//	q.empty() / q.full()      q.Empty() / q.Full()
//	q.close()                 q.Close()  (queue-wide here: every process's puts fail afterwards)
//	q.join_thread()           not needed: there is no feeder thread; a Put is in the queue when it returns
//	q.cancel_join_thread()    not needed, for the same reason
//	q.task_done()             q.TaskDone()  (too many → ErrTaskDoneTooMany, Python's ValueError)
//	q.join()                  q.Join()      (plus JoinContext, JoinTimeout, Unfinished)
//	pickling                  raw bytes for fixed-size T, gob otherwise
//	passing q to Process      pass the *Typed[T] / *Joinable[T] as (part of) a procs argument

import (
	"errors"
	"fmt"
	"reflect"

	typelayout "github.com/multiproc-go/multiproc/internal/layout"
	"github.com/multiproc-go/multiproc/shm"
)

// ErrDecode: a gob queue's message could not be decoded into T. The
// message is consumed (it would fail every consumer the same way).
var ErrDecode = errors.New("cannot decode message")

// Encoding says how a typed queue carries its values.
type Encoding uint8

const (
	// EncodingRaw copies a fixed-size T's bytes.
	EncodingRaw Encoding = iota + 1
	// EncodingGob sends each value as a self-contained gob stream.
	EncodingGob
)

func (e Encoding) String() string {
	switch e {
	case EncodingRaw:
		return "raw"
	case EncodingGob:
		return "gob"
	}
	return fmt.Sprintf("Encoding(%d)", uint8(e))
}

// A Typed is a handle on a bounded queue of T values in a shared segment
// (see Typed queues in the package documentation). Like a Queue handle, it may be used by any
// number of goroutines (SPSC: one per role at a time), and every process
// has its own, opened by name or received as a procs argument.
type Typed[T any] struct{ typedQueue[T] }

// NewTyped creates a queue of T named name in seg. For a fixed-size T the
// slot size is sizeof(T) and o.SlotSize must be 0 or that; for any other
// T, o.SlotSize bounds a value's gob encoding. A T that gob cannot encode
// (say, a struct with no exported fields) is ErrInvalid.
func NewTyped[T any](seg *shm.Segment, name string, o Options) (*Typed[T], error) {
	q := &Typed[T]{}
	if err := q.create(seg, name, o, shm.KindQueue, 0); err != nil {
		return nil, err
	}
	return q, nil
}

// OpenTyped opens the queue of T named name in seg, as created by
// NewTyped in this or another process. A queue of another element type is
// shm.ErrTypeMismatch; a JoinableQueue or other object is
// shm.ErrKindMismatch.
func OpenTyped[T any](seg *shm.Segment, name string) (*Typed[T], error) {
	q := &Typed[T]{}
	if err := q.open(seg, name, shm.KindQueue); err != nil {
		return nil, err
	}
	return q, nil
}

// TypedSize returns how many bytes of a segment's heap NewTyped[T] will
// take for o, so that callers can size a segment.
func TypedSize[T any](o Options) (int, error) {
	ti, err := typedInfoFor[T]()
	if err != nil {
		return 0, err
	}
	if o, err = ti.options(o); err != nil {
		return 0, err
	}
	return Size(o)
}

// GobDecode opens the queue an encoded handle names, attaching its
// segment (procs passes typed queues as arguments this way); Detach
// releases that attachment.
func (q *Typed[T]) GobDecode(b []byte) error { return q.decode(b, shm.KindQueue) }

// Queue returns the byte queue underneath, for its zero-copy calls,
// Inspect and the like. Its messages are T's bytes (raw) or one gob
// stream each (gob); putting anything else breaks the typed consumers.
func (q *Typed[T]) Queue() *Queue { return q.q }

// typedInfo is what a typed queue needs to know about T, computed once per
// construction.
type typedInfo struct {
	typ      reflect.Type
	encoding Encoding
	size     int    // raw: sizeof(T)
	elemSize uint32 // recorded in the directory: sizeof(T) raw, 0 gob
	fp       uint64 // recorded in the directory
	reuse    bool   // gob: T holds no interface, encoders and decoders may be reused
	boxed    bool   // gob: T is an interface or pointer type, encoded in a gobBox
}

func typedInfoFor[T any]() (typedInfo, error) {
	t := reflect.TypeFor[T]()
	if typelayout.FixedSize(t) == nil {
		if t.Size() > MaxSlotSize {
			return typedInfo{}, fmt.Errorf("%w: %s is %d bytes, a slot holds at most %d", ErrInvalid, t, t.Size(), MaxSlotSize)
		}
		return typedInfo{typ: t, encoding: EncodingRaw, size: int(t.Size()),
			elemSize: uint32(t.Size()), fp: typelayout.Fingerprint(t)}, nil
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		// gob skips such fields silently: boxed, they would travel as nothing.
		return typedInfo{}, fmt.Errorf("%w: gob cannot carry a %s", ErrInvalid, t)
	}
	if err := gobCheck[T](gobBoxed(t)); err != nil {
		return typedInfo{}, fmt.Errorf("%w: gob cannot carry %s: %v", ErrInvalid, t, err)
	}
	return typedInfo{typ: t, encoding: EncodingGob, fp: gobFingerprint(t),
		reuse: !gobHasInterface(t), boxed: gobBoxed(t)}, nil
}

// rawSlot is a raw queue's slot size: sizeof(T), at least 1 (the byte
// queue's minimum; a zero-size T travels as empty messages).
func (ti typedInfo) rawSlot() int { return max(ti.size, 1) }

// options fills in and checks the slot size for T.
func (ti typedInfo) options(o Options) (Options, error) {
	if ti.encoding == EncodingRaw {
		if o.SlotSize != 0 && o.SlotSize != ti.rawSlot() {
			return o, fmt.Errorf("%w: slot size %d for %s, whose raw slot is %d bytes (leave it 0)", ErrInvalid, o.SlotSize, ti.typ, ti.rawSlot())
		}
		o.SlotSize = ti.rawSlot()
	}
	return o, nil
}

// typedQueue is what Typed and Joinable share: the handle, its type
// information and every call that does not count tasks.
type typedQueue[T any] struct {
	q   *Queue
	ti  typedInfo
	gob *gobCodec[T] // nil for raw
}

func (q *typedQueue[T]) create(seg *shm.Segment, name string, o Options, kind shm.Kind, aux int) error {
	ti, err := typedInfoFor[T]()
	if err == nil {
		o, err = ti.options(o)
	}
	if err != nil {
		return fmt.Errorf("ringqueue %q: new: %w", name, err)
	}
	bq, err := create(seg, name, o, kind, ti.elemSize, ti.fp, aux)
	if err != nil {
		return err
	}
	return q.init(bq, ti)
}

func (q *typedQueue[T]) open(seg *shm.Segment, name string, kind shm.Kind) error {
	ti, err := typedInfoFor[T]()
	if err != nil {
		return fmt.Errorf("ringqueue %q: open: %w", name, err)
	}
	bq, err := open(seg, name, kind, ti.elemSize, ti.fp)
	if err != nil {
		return err
	}
	return q.init(bq, ti)
}

func (q *typedQueue[T]) decode(b []byte, kind shm.Kind) error {
	ti, err := typedInfoFor[T]()
	if err != nil {
		return fmt.Errorf("ringqueue: decode handle: %w", err)
	}
	bq := &Queue{}
	if err := bq.decodeRef(b, kind, ti.elemSize, ti.fp); err != nil {
		return err
	}
	if err := q.init(bq, ti); err != nil {
		_ = bq.Detach()
		return err
	}
	return nil
}

// init checks what the directory cannot: that a raw queue's slots hold
// exactly a T. (The directory's element size and fingerprint already
// matched, so only a corrupt header gets here.)
func (q *typedQueue[T]) init(bq *Queue, ti typedInfo) error {
	if ti.encoding == EncodingRaw && bq.SlotSize() != ti.rawSlot() {
		return fmt.Errorf("ringqueue %q: open: %w: slots of %d bytes for %d-byte %s", bq.Name(), shm.ErrCorrupt, bq.SlotSize(), ti.size, ti.typ)
	}
	q.q, q.ti = bq, ti
	if ti.encoding == EncodingGob {
		q.gob = &gobCodec[T]{reuse: ti.reuse, boxed: ti.boxed}
	}
	return nil
}

// Name returns the queue's name in its segment.
func (q *typedQueue[T]) Name() string { return q.q.Name() }

// Segment returns the segment the queue lives in.
func (q *typedQueue[T]) Segment() *shm.Segment { return q.q.Segment() }

// Mode returns MPMC or SPSC.
func (q *typedQueue[T]) Mode() Mode { return q.q.Mode() }

// Encoding says whether values travel as raw bytes or as gob.
func (q *typedQueue[T]) Encoding() Encoding { return q.ti.encoding }

// Cap returns the number of slots: how many values fit.
func (q *typedQueue[T]) Cap() int { return q.q.Cap() }

// SlotSize returns the slot size in bytes: sizeof(T) for raw queues, the
// largest gob encoding for gob queues.
func (q *typedQueue[T]) SlotSize() int { return q.q.SlotSize() }

// Len returns the number of values queued right now (Python's qsize);
// by the time it returns, others may have changed it.
func (q *typedQueue[T]) Len() int { return q.q.Len() }

// Empty reports whether Len is 0.
func (q *typedQueue[T]) Empty() bool { return q.q.Empty() }

// Full reports whether Len is Cap.
func (q *typedQueue[T]) Full() bool { return q.q.Full() }

// Close closes the queue for every process: later puts fail with
// ErrClosed, gets drain what is queued and then fail with ErrClosed, and
// everyone blocked is woken. It is idempotent.
func (q *typedQueue[T]) Close() error { return q.q.Close() }

// Closed reports whether Close was called (by any process).
func (q *typedQueue[T]) Closed() bool { return q.q.Closed() }

// SetWaitPolicy sets how this handle's blocking calls wait (see WaitPolicy).
func (q *typedQueue[T]) SetWaitPolicy(p WaitPolicy) { q.q.SetWaitPolicy(p) }

// Detach gives up this handle (see Queue.Detach): a segment attached by
// GobDecode is closed. The queue lives on.
func (q *typedQueue[T]) Detach() error { return q.q.Detach() }

// GobEncode encodes a handle on the queue that GobDecode re-opens in
// another process.
func (q *typedQueue[T]) GobEncode() ([]byte, error) {
	if q.q == nil {
		return nil, fmt.Errorf("ringqueue: encode handle: %w: nil queue", ErrInvalid)
	}
	return q.q.GobEncode()
}
