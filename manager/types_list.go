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

// bounds checks a slice [lo:hi] of n items (Go's rules: no negatives);
// args is lo, hi.
func bounds(args [][]byte, n int) (int, int, error) {
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

// listMethods run with the list's mutex held (see call).
var listMethods = methods[*listObject]{
	"Append": {1, func(l *listObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		l.items = append(l.items, args[0])
		return nil, nil
	}},
	"Extend": {anyArgs, func(l *listObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		l.items = append(l.items, args...)
		return nil, nil
	}},
	"Insert": {2, func(l *listObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		// Python's insert: the index is clamped, not checked.
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
	}},
	"Get": {1, func(l *listObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		i, err := index(args[0], len(l.items))
		if err != nil {
			return nil, err
		}
		return [][]byte{l.items[i]}, nil
	}},
	"Set": {2, func(l *listObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		i, err := index(args[0], len(l.items))
		if err != nil {
			return nil, err
		}
		l.items[i] = args[1]
		return nil, nil
	}},
	"Pop": {1, func(l *listObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		i, err := index(args[0], len(l.items))
		if err != nil {
			return nil, err
		}
		v := l.items[i]
		copy(l.items[i:], l.items[i+1:])
		l.items[len(l.items)-1] = nil // let the value go
		l.items = l.items[:len(l.items)-1]
		return [][]byte{v}, nil
	}},
	"Len": {0, func(l *listObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		return [][]byte{intArg(int64(len(l.items)))}, nil
	}},
	"All": {0, func(l *listObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		return append([][]byte(nil), l.items...), nil
	}},
	"Slice": {2, func(l *listObject, _ context.Context, _ caller, args [][]byte) ([][]byte, error) {
		lo, hi, err := bounds(args, len(l.items))
		if err != nil {
			return nil, err
		}
		return append([][]byte(nil), l.items[lo:hi]...), nil
	}},
	"Clear": {0, func(l *listObject, _ context.Context, _ caller, _ [][]byte) ([][]byte, error) {
		l.items = nil
		return nil, nil
	}},
}

func (l *listObject) call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return listMethods.call(l, "list", ctx, c, method, args)
}
