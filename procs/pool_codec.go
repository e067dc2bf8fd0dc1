package procs

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/layout"
)

// Codecs: how a pool's tasks carry their items and results. The parent
// and its workers are the same binary, so both sides pick the same codec
// for a type:
//
//   - []byte and string: each item as uvarint length + bytes;
//   - fixed-size types (no pointers at any depth, internal/layout): the
//     items' memory, copied as one block — no encoding at all;
//   - anything else: gob, one stream per task, so a chunk of items pays
//     for its type description once.
type codec[T any] interface {
	// encode appends the encoding of items to dst.
	encode(dst []byte, items []T) ([]byte, error)
	// decode fills out from src, which must hold exactly len(out) items.
	decode(src []byte, out []T) error
}

func codecFor[T any]() codec[T] {
	t := reflect.TypeFor[T]()
	switch {
	case t == reflect.TypeFor[[]byte]():
		return any(bytesCodec{}).(codec[T])
	case t == reflect.TypeFor[string]():
		return any(stringCodec{}).(codec[T])
	case layout.FixedSize(t) == nil:
		return rawCodec[T]{}
	}
	return gobCodec[T]{}
}

type rawCodec[T any] struct{}

func (rawCodec[T]) encode(dst []byte, items []T) ([]byte, error) {
	size := int(unsafe.Sizeof(*new(T)))
	if size == 0 || len(items) == 0 {
		return dst, nil
	}
	return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(items))), len(items)*size)...), nil
}

func (rawCodec[T]) decode(src []byte, out []T) error {
	size := int(unsafe.Sizeof(*new(T)))
	if len(src) != len(out)*size {
		return fmt.Errorf("%w: %d bytes for %d items of %d bytes", ErrProtocol, len(src), len(out), size)
	}
	if size > 0 && len(out) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), len(src)), src)
	}
	return nil
}

type bytesCodec struct{}

func (bytesCodec) encode(dst []byte, items [][]byte) ([]byte, error) {
	for _, b := range items {
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		dst = append(dst, b...)
	}
	return dst, nil
}

func (bytesCodec) decode(src []byte, out [][]byte) error {
	for i := range out {
		b, rest, err := cutItem(src)
		if err != nil {
			return err
		}
		out[i], src = bytes.Clone(b), rest
		if out[i] == nil {
			out[i] = []byte{}
		}
	}
	if len(src) != 0 {
		return fmt.Errorf("%w: %d bytes after the last item", ErrProtocol, len(src))
	}
	return nil
}

type stringCodec struct{}

func (stringCodec) encode(dst []byte, items []string) ([]byte, error) {
	for _, s := range items {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst, nil
}

func (stringCodec) decode(src []byte, out []string) error {
	for i := range out {
		b, rest, err := cutItem(src)
		if err != nil {
			return err
		}
		out[i], src = string(b), rest
	}
	if len(src) != 0 {
		return fmt.Errorf("%w: %d bytes after the last item", ErrProtocol, len(src))
	}
	return nil
}

func cutItem(b []byte) (item, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("%w: truncated item", ErrProtocol)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

type gobCodec[T any] struct{}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (gobCodec[T]) encode(dst []byte, items []T) ([]byte, error) {
	w := appendWriter{dst}
	// A struct field, not the slice itself: see box.
	if err := gob.NewEncoder(&w).Encode(box[[]T]{items}); err != nil {
		return dst, err
	}
	return w.b, nil
}

func (gobCodec[T]) decode(src []byte, out []T) error {
	var b box[[]T]
	if err := gob.NewDecoder(bytes.NewReader(src)).Decode(&b); err != nil {
		return err
	}
	if len(b.V) != len(out) {
		return fmt.Errorf("%w: %d items decoded, want %d", ErrProtocol, len(b.V), len(out))
	}
	copy(out, b.V)
	return nil
}

// A poolRunner runs a registered function over the items of one task, in
// a worker: in holds the items (the argument type's codec), out receives
// the result payload (pool_wire.go). It never fails as a whole: a payload
// that does not decode fails every item with the decoding error.
type poolRunner func(in []byte, n int, out []byte) []byte

var poolRunners = struct {
	sync.Mutex
	byName map[string]poolRunner
}{byName: map[string]poolRunner{}}

// registerPoolRunner is called by Register for every function, so that a
// pool worker can run it on items in their own codec rather than through
// the gob-only runner that Start uses.
func registerPoolRunner[A, R any](name string, fn func(A) (R, error)) {
	ac, rc := codecFor[A](), codecFor[R]()
	run := func(in []byte, n int, out []byte) []byte {
		args := make([]A, n)
		status := make([]byte, n)
		var fails []itemError
		if err := ac.decode(in, args); err != nil {
			for i := range n {
				status[i] = itemFailed
				fails = append(fails, itemError{index: i, message: fmt.Sprintf("decoding the argument: %v", err)})
			}
			return appendResult(out, status, fails, nil)
		}
		results := make([]R, 0, n)
		for i := range n {
			r, e := callItem(fn, args[i])
			if e != nil {
				e.index = i
				status[i] = itemFailed
				if e.panicked {
					status[i] = itemPanicked
				}
				fails = append(fails, *e)
				continue
			}
			results = append(results, r)
		}
		values, err := rc.encode(nil, results)
		if err != nil {
			// The results cannot travel: each successful item fails with why.
			for i := range status {
				if status[i] == itemOK {
					status[i] = itemFailed
					fails = insertFail(fails, itemError{index: i, message: fmt.Sprintf("encoding the result: %v", err)})
				}
			}
			values = nil
		}
		return appendResult(out, status, fails, values)
	}
	poolRunners.Lock()
	poolRunners.byName[name] = run
	poolRunners.Unlock()
}

func lookupPoolRunner(name string) (poolRunner, bool) {
	poolRunners.Lock()
	defer poolRunners.Unlock()
	r, ok := poolRunners.byName[name]
	return r, ok
}

// callItem calls fn(a), turning an error or a panic into an itemError.
func callItem[A, R any](fn func(A) (R, error), a A) (r R, e *itemError) {
	defer func() {
		if v := recover(); v != nil {
			e = &itemError{message: fmt.Sprint(v), stack: string(debug.Stack()), panicked: true}
		}
	}()
	r, err := fn(a)
	if err != nil {
		return r, &itemError{message: err.Error()}
	}
	return r, nil
}

// insertFail keeps fails ordered by index.
func insertFail(fails []itemError, e itemError) []itemError {
	i := len(fails)
	for i > 0 && fails[i-1].index > e.index {
		i--
	}
	fails = append(fails, itemError{})
	copy(fails[i+1:], fails[i:])
	fails[i] = e
	return fails
}

func appendResult(out []byte, status []byte, fails []itemError, values []byte) []byte {
	out = binary.AppendUvarint(out, uint64(len(status)))
	out = append(out, status...)
	for _, f := range fails {
		out = binary.AppendUvarint(out, uint64(len(f.message)))
		out = append(out, f.message...)
		if f.panicked {
			out = binary.AppendUvarint(out, uint64(len(f.stack)))
			out = append(out, f.stack...)
		}
	}
	return append(out, values...)
}
