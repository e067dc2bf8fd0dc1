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

func (d *dictObject) call(_ context.Context, _ caller, method string, args [][]byte) ([][]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch method {
	case "Get":
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		if i, ok := d.index[string(args[0])]; ok {
			return [][]byte{d.order[i].val}, nil
		}
		return nil, ErrNotFound
	case "Set":
		if err := argCount(args, 2); err != nil {
			return nil, err
		}
		d.set(args[0], args[1])
		return nil, nil
	case "SetDefault": // -> the value now stored
		if err := argCount(args, 2); err != nil {
			return nil, err
		}
		if i, ok := d.index[string(args[0])]; ok {
			return [][]byte{d.order[i].val}, nil
		}
		d.set(args[0], args[1])
		return [][]byte{args[1]}, nil
	case "Has":
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		_, ok := d.index[string(args[0])]
		return [][]byte{boolArg(ok)}, nil
	case "Delete": // -> whether it was there
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		_, ok := d.del(args[0])
		return [][]byte{boolArg(ok)}, nil
	case "Pop":
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		if v, ok := d.del(args[0]); ok {
			return [][]byte{v}, nil
		}
		return nil, ErrNotFound
	case "Len":
		return [][]byte{intArg(int64(len(d.index)))}, nil
	case "Keys", "Values", "Items":
		out := make([][]byte, 0, len(d.index)*(1+btoi(method == "Items")))
		for _, e := range d.order {
			if !e.live {
				continue
			}
			switch method {
			case "Keys":
				out = append(out, e.key)
			case "Values":
				out = append(out, e.val)
			default:
				out = append(out, e.key, e.val)
			}
		}
		return out, nil
	case "Update": // key, value, key, value...
		if len(args)%2 != 0 {
			return nil, fmt.Errorf("odd number of key/value arguments: %w", ErrBadArgs)
		}
		for i := 0; i < len(args); i += 2 {
			d.set(args[i], args[i+1])
		}
		return nil, nil
	case "Clear":
		clear(d.index)
		d.order, d.dead = nil, 0
		return nil, nil
	}
	return nil, fmt.Errorf("dict: %q: %w", method, ErrNoMethod)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
