package report

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/multiproc-go/multiproc/shm"
)

// Object is one named object of a segment and what its shared words say.
type Object struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Offset      uint64 `json:"offset"`
	Size        uint64 `json:"size"`
	ElemSize    uint32 `json:"elem_size,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// Summary is a one-line human description of the state.
	Summary string `json:"summary"`
	// Error says why the state could not be read (corrupt object header,
	// unknown layout); Detail is nil then.
	Error string `json:"error,omitempty"`
	// Detail is the kind's state: *Lock (mutex), *RLock, *Semaphore,
	// *Condition, *Event, *Barrier, *Queue, *Value, *Array; nil for kinds
	// with no state to show (bytes, pipe).
	Detail any `json:"detail,omitempty"`
}

// Holder is a participant named by an ID in a shared word (a lock's
// holder, a queue role, a barrier member), resolved through the
// participant table.
type Holder struct {
	ID uint64 `json:"id"`
	// Pid is the process behind the ID, 0 when the table no longer names
	// one (Attached false: the process detached, or its slot was taken over
	// by another process, so the ID is stale).
	Pid      int  `json:"pid,omitempty"`
	Attached bool `json:"attached"`
	Alive    bool `json:"alive"`
}

func holder(v *shm.View, id uint64) *Holder {
	h := &Holder{ID: id}
	if p, ok := v.Participant(id); ok {
		h.Pid, h.Attached, h.Alive = p.Pid, true, p.Alive
	}
	return h
}

func (h *Holder) String() string {
	switch {
	case h == nil:
		return "nobody"
	case !h.Attached:
		return fmt.Sprintf("id %#x (detached)", h.ID)
	case h.Alive:
		return fmt.Sprintf("pid %d (alive)", h.Pid)
	}
	return fmt.Sprintf("pid %d (dead)", h.Pid)
}

// An adapter describes objects of one kind. The adapters live in one file
// per kind family (kind_*.go) and call that package's Inspect function,
// which only loads: they are the only code here that knows another
// package's state types.
type adapter func(v *shm.View, obj shm.Object) (detail any, summary string, err error)

var adapters = map[shm.Kind]adapter{}

func register(k shm.Kind, a adapter) { adapters[k] = a }

// describe reads one object. A fault or panic in an inspector (memory that
// went away, a layout it did not expect) becomes the object's Error.
func describe(v *shm.View, obj shm.Object) Object {
	o := Object{Name: obj.Name, Kind: obj.Kind.String(), Offset: obj.Offset, Size: obj.Size, ElemSize: obj.ElemSize}
	if obj.Fingerprint != 0 {
		o.Fingerprint = fmt.Sprintf("%#016x", obj.Fingerprint)
	}
	a, ok := adapters[obj.Kind]
	if !ok {
		o.Summary = fmt.Sprintf("%d bytes", obj.Size)
		return o
	}
	err := safely(func() error {
		d, sum, err := a(v, obj)
		if err != nil {
			return err
		}
		o.Detail, o.Summary = d, sum
		return nil
	})
	if err != nil {
		o.Error = err.Error()
		o.Summary = "error: " + err.Error()
	}
	return o
}

// safely runs f, turning a memory fault (a segment truncated under its
// mapping raises SIGBUS) or a panic into an error. The tool reads memory
// that other processes own: it reports what it cannot read, it does not
// crash on it.
func safely(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: reading the segment failed: %v", shm.ErrCorrupt, r)
		}
	}()
	return f()
}

// phrases joins the non-empty parts of a summary.
func phrases(parts ...string) string {
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
