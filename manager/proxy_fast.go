package manager

import "fmt"

// callValue runs a call that cannot block on the server (no context) with
// the encoded arguments args appended by vals (none when args is nil), and
// decodes its one result with vals when want is set. The request, the
// reply and the arguments live in a recycled waiter, so for a fixed-size
// T nothing is allocated.
func callValue[T any](r *ref, method string, vals codec[T], want bool, args ...T) (T, error) {
	var zero T
	if r == nil {
		return zero, fmt.Errorf("manager: %s on a nil proxy: %w", method, ErrInvalid)
	}
	if r.closed.Load() {
		return zero, fmt.Errorf("manager: %v: proxy closed: %w", r.site(method), ErrClosed)
	}
	w := getWaiter()
	w.arg, w.args = w.arg[:0], w.args[:0]
	for _, a := range args {
		start := len(w.arg)
		var err error
		if w.arg, err = vals.appendTo(w.arg, a); err != nil {
			w.recycle()
			return zero, err
		}
		w.args = append(w.args, w.arg[start:len(w.arg):len(w.arg)])
	}
	// The headers were taken while w.arg grew: the early ones may point at
	// storage it has since left, which still holds their bytes.
	res, reusable, err := r.c.roundTrip(bg, r.site(method), r.id, method, w.args, w)
	v := zero
	if err == nil && want {
		if len(res) != 1 {
			err = fmt.Errorf("manager: %v: %d results: %w", r.site(method), len(res), ErrProtocol)
		} else {
			v, err = vals.decode(res[0])
		}
	}
	if reusable {
		w.recycle()
	}
	return v, err
}
