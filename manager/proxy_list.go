package manager

// A List is a proxy for a list that lives in the server: Python's
// manager.list(). Indexes are Python's: a negative one counts from the end
// (-1 is the last item); Slice takes Go's bounds. Every method is one round
// trip and atomic on the server. Safe for concurrent use; crosses to a
// child process as an argument.
type List[T any] struct {
	r    *ref
	vals codec[T]
}

// NewList creates an empty List on the server (or, Named, finds one).
func NewList[T any](m *Manager, opts ...ObjectOption) (*List[T], error) {
	r, err := m.create(typeList, nil, opts)
	if err != nil {
		return nil, err
	}
	return &List[T]{r: r, vals: codecFor[T]()}, nil
}

// Append adds v at the end.
func (l *List[T]) Append(v T) error {
	b, err := l.vals.encode(v)
	if err != nil {
		return err
	}
	_, err = l.r.do("Append", b)
	return err
}

// Extend adds vs at the end, atomically.
func (l *List[T]) Extend(vs ...T) error {
	bs, err := l.vals.encodeAll(vs)
	if err != nil {
		return err
	}
	_, err = l.r.do("Extend", bs...)
	return err
}

// Insert puts v before index i; as in Python, an i beyond either end
// inserts at that end.
func (l *List[T]) Insert(i int, v T) error {
	b, err := l.vals.encode(v)
	if err != nil {
		return err
	}
	_, err = l.r.do("Insert", intArg(int64(i)), b)
	return err
}

// Get returns item i, or ErrIndex.
func (l *List[T]) Get(i int) (T, error) {
	b, err := l.r.one(bg, "Get", intArg(int64(i)))
	if err != nil {
		var zero T
		return zero, err
	}
	return l.vals.decode(b)
}

// Set replaces item i, or fails with ErrIndex.
func (l *List[T]) Set(i int, v T) error {
	b, err := l.vals.encode(v)
	if err != nil {
		return err
	}
	_, err = l.r.do("Set", intArg(int64(i)), b)
	return err
}

// Pop removes and returns the last item, or fails with ErrIndex when the
// list is empty.
func (l *List[T]) Pop() (T, error) { return l.PopAt(-1) }

// PopAt removes and returns item i.
func (l *List[T]) PopAt(i int) (T, error) {
	b, err := l.r.one(bg, "Pop", intArg(int64(i)))
	if err != nil {
		var zero T
		return zero, err
	}
	return l.vals.decode(b)
}

// Len returns the number of items.
func (l *List[T]) Len() (int, error) { return l.r.int("Len") }

// Slice returns items [lo:hi] (0 <= lo <= hi <= Len, else ErrIndex).
func (l *List[T]) Slice(lo, hi int) ([]T, error) {
	res, err := l.r.do("Slice", intArg(int64(lo)), intArg(int64(hi)))
	if err != nil {
		return nil, err
	}
	return l.vals.decodeAll(res)
}

// All returns every item, from one moment.
func (l *List[T]) All() ([]T, error) {
	res, err := l.r.do("All")
	if err != nil {
		return nil, err
	}
	return l.vals.decodeAll(res)
}

// Clear removes every item.
func (l *List[T]) Clear() error {
	_, err := l.r.do("Clear")
	return err
}

// Detach releases this proxy's reference.
func (l *List[T]) Detach() error { return l.r.close() }

// GobEncode packs the proxy to cross to another process.
func (l *List[T]) GobEncode() ([]byte, error) { return l.r.encode() }

// GobDecode attaches to the List a GobEncode packed.
func (l *List[T]) GobDecode(b []byte) error {
	r, err := decodeRef(b, typeList, nil)
	if err != nil {
		return err
	}
	*l = List[T]{r: r, vals: codecFor[T]()}
	return nil
}
