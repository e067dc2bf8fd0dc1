package manager

import (
	"context"
	"fmt"
	"sync"
)

// listObject is a List on the server: opaque values in order. Indexes are
// Python's: a negative one counts from the end.
type listObject struct {
	mu    sync.Mutex
	items [][]byte
}

func newListObject(_ *Server, args [][]byte) (object, error) {
	return &listObject{items: append([][]byte(nil), args...)}, nil
}

// index resolves a Python index against n items: -1 is the last.
func index(b []byte, n int) (int, error) {
	i, err := getInt(b)
	if err != nil {
		return 0, err
	}
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, fmt.Errorf("index %d of %d: %w", i, n, ErrIndex)
	}
	return int(i), nil
}

// bounds checks a slice [lo:hi] of n items (Go's rules: no negatives).
func bounds(args [][]byte, n int) (int, int, error) {
	if err := argCount(args, 2); err != nil {
		return 0, 0, err
	}
	lo, err1 := getInt(args[0])
	hi, err2 := getInt(args[1])
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("slice bounds: %w", ErrBadArgs)
	}
	if lo < 0 || lo > hi || hi > int64(n) {
		return 0, 0, fmt.Errorf("slice [%d:%d] of %d: %w", lo, hi, n, ErrIndex)
	}
	return int(lo), int(hi), nil
}

func (l *listObject) call(_ context.Context, _ caller, method string, args [][]byte) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch method {
	case "Append":
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		l.items = append(l.items, args[0])
		return nil, nil
	case "Extend":
		l.items = append(l.items, args...)
		return nil, nil
	case "Insert": // Python's insert: the index is clamped, not checked
		if err := argCount(args, 2); err != nil {
			return nil, err
		}
		i, err := getInt(args[0])
		if err != nil {
			return nil, err
		}
		n := int64(len(l.items))
		if i < 0 {
			i = max(i+n, 0)
		}
		i = min(i, n)
		l.items = append(l.items, nil)
		copy(l.items[i+1:], l.items[i:])
		l.items[i] = args[1]
		return nil, nil
	case "Get":
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		i, err := index(args[0], len(l.items))
		if err != nil {
			return nil, err
		}
		return [][]byte{l.items[i]}, nil
	case "Set":
		if err := argCount(args, 2); err != nil {
			return nil, err
		}
		i, err := index(args[0], len(l.items))
		if err != nil {
			return nil, err
		}
		l.items[i] = args[1]
		return nil, nil
	case "Pop":
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		i, err := index(args[0], len(l.items))
		if err != nil {
			return nil, err
		}
		v := l.items[i]
		copy(l.items[i:], l.items[i+1:])
		l.items[len(l.items)-1] = nil // let the value go
		l.items = l.items[:len(l.items)-1]
		return [][]byte{v}, nil
	case "Len":
		return [][]byte{intArg(int64(len(l.items)))}, nil
	case "All":
		return append([][]byte(nil), l.items...), nil
	case "Slice":
		lo, hi, err := bounds(args, len(l.items))
		if err != nil {
			return nil, err
		}
		return append([][]byte(nil), l.items[lo:hi]...), nil
	case "Clear":
		l.items = nil
		return nil, nil
	}
	return nil, fmt.Errorf("list: %q: %w", method, ErrNoMethod)
}
