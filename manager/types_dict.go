package manager

import (
	"context"
	"fmt"
	"sync"
)

// dictObject is a Dict on the server: canonical key bytes to opaque value
// bytes, in insertion order (as Python's dict). Deleted entries leave a
// tombstone in the order slice, compacted once they are half of it, so
// every operation stays amortized O(1) and Keys/Items O(n).
type dictObject struct {
	mu    sync.Mutex
	index map[string]int // key -> position in order
	order []dictEntry
	dead  int // tombstones in order
}

type dictEntry struct {
	key, val []byte
	live     bool
}

func newDictObject(_ *Server, args [][]byte) (object, error) {
	d := &dictObject{index: map[string]int{}}
	if len(args)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of key/value arguments: %w", ErrBadArgs)
	}
	for i := 0; i < len(args); i += 2 {
		d.set(args[i], args[i+1])
	}
	return d, nil
}

func (d *dictObject) set(k, v []byte) {
	if i, ok := d.index[string(k)]; ok {
		d.order[i].val = v
		return
	}
	d.index[string(k)] = len(d.order)
	d.order = append(d.order, dictEntry{key: k, val: v, live: true})
}

func (d *dictObject) del(k []byte) ([]byte, bool) {
	i, ok := d.index[string(k)]
	if !ok {
		return nil, false
	}
	v := d.order[i].val
	delete(d.index, string(k))
	d.order[i] = dictEntry{}
	d.dead++
	if d.dead > 16 && d.dead*2 > len(d.order) {
		d.compact()
	}
	return v, true
}

func (d *dictObject) compact() {
	live := d.order[:0]
	for _, e := range d.order {
		if e.live {
			d.index[string(e.key)] = len(live)
			live = append(live, e)
		}
	}
	clear(d.order[len(live):])
	d.order, d.dead = live, 0
}

// dictMethods run with the dict's mutex held (see call).
var dictMethods = methods[*dictObject]{
	"Get": {1, func(d *dictObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		if i, ok := d.index[string(args[0])]; ok {
			return [][]byte{d.order[i].val}, nil
		}
		return nil, ErrNotFound
	}},
	"Set": {2, func(d *dictObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		d.set(args[0], args[1])
		return nil, nil
	}},
	"SetDefault": {2, func(d *dictObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		// -> the value now stored
		if i, ok := d.index[string(args[0])]; ok {
			return [][]byte{d.order[i].val}, nil
		}
		d.set(args[0], args[1])
		return [][]byte{args[1]}, nil
	}},
	"Has": {1, func(d *dictObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		_, ok := d.index[string(args[0])]
		return [][]byte{boolArg(ok)}, nil
	}},
	"Delete": {1, func(d *dictObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		_, ok := d.del(args[0]) // -> whether it was there
		return [][]byte{boolArg(ok)}, nil
	}},
	"Pop": {1, func(d *dictObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		if v, ok := d.del(args[0]); ok {
			return [][]byte{v}, nil
		}
		return nil, ErrNotFound
	}},
	"Len": {0, func(d *dictObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		return [][]byte{intArg(int64(len(d.index)))}, nil
	}},
	"Keys":   entriesMethod(true, false),
	"Values": entriesMethod(false, true),
	"Items":  entriesMethod(true, true),
	"Update": {anyArgs, func(d *dictObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		if len(args)%2 != 0 { // key, value, key, value...
			return nil, fmt.Errorf("odd number of key/value arguments: %w", ErrBadArgs)
		}
		for i := 0; i < len(args); i += 2 {
			d.set(args[i], args[i+1])
		}
		return nil, nil
	}},
	"Clear": {0, func(d *dictObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		clear(d.index)
		d.order, d.dead = nil, 0
		return nil, nil
	}},
}

// entriesMethod is Keys, Values or Items (keys and values alternating),
// in insertion order.
func entriesMethod(keys, vals bool) method[*dictObject] {
	return method[*dictObject]{0, func(d *dictObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		out := make([][]byte, 0, len(d.index)*(btoi(keys)+btoi(vals)))
		for _, e := range d.order {
			if !e.live {
				continue
			}
			if keys {
				out = append(out, e.key)
			}
			if vals {
				out = append(out, e.val)
			}
		}
		return out, nil
	}}
}

func (d *dictObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return dictMethods.call(d, "dict", ctx, c, method, args)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
