package manager

import "fmt"

// Calls that cannot block on the server (no context), built in a recycled
// waiter: the request, the reply and the arguments live there, so for
// fixed-size values (and string or int keys) nothing is allocated.
//
//	w, err := begin(r, method)
//	w.arg, err = codec.appendTo(w.arg, x); w.push(start)   // per argument
//	v, err := finish(r, w, method, vals, want)

// begin starts a call on r.
func begin(r *ref, method string) (*waiter, error) {
	if r == nil {
		return nil, fmt.Errorf("manager: %s on a nil proxy: %w", method, ErrInvalid)
	}
	if r.closed.Load() {
		return nil, fmt.Errorf("manager: %v: proxy closed: %w", r.site(method), ErrClosed)
	}
	w := getWaiter()
	w.arg, w.args = w.arg[:0], w.args[:0]
	return w, nil
}

// push makes w.arg[start:] the next argument. Headers taken while w.arg
// grows may point at storage it has since left, which still holds their
// bytes.
func (w *waiter) push(start int) {
	w.args = append(w.args, w.arg[start:len(w.arg):len(w.arg)])
}

// finish sends the call and decodes its one result with vals if want.
func finish[T any](r *ref, w *waiter, method string, vals codec[T], want bool) (T, error) {
	res, reusable, err := r.c.roundTrip(bg, r.site(method), r.id, method, w.args, w)
	var v T
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

// callValue is a call whose arguments are values of T.
func callValue[T any](r *ref, method string, vals codec[T], want bool, args ...T) (T, error) {
	var zero T
	w, err := begin(r, method)
	if err != nil {
		return zero, err
	}
	for _, a := range args {
		start := len(w.arg)
		if w.arg, err = vals.appendTo(w.arg, a); err != nil {
			w.recycle()
			return zero, err
		}
		w.push(start)
	}
	return finish(r, w, method, vals, want)
}

// callKeyed is a call whose arguments are a key and, if v is not nil, a
// value.
func callKeyed[K comparable, V any](r *ref, method string, keys keyCodec[K], k K, vals codec[V], v *V, want bool) (V, error) {
	var zero V
	w, err := begin(r, method)
	if err != nil {
		return zero, err
	}
	start := len(w.arg)
	if w.arg, err = keys.appendTo(w.arg, k); err != nil {
		w.recycle()
		return zero, err
	}
	w.push(start)
	if v != nil {
		start = len(w.arg)
		if w.arg, err = vals.appendTo(w.arg, *v); err != nil {
			w.recycle()
			return zero, err
		}
		w.push(start)
	}
	return finish(r, w, method, vals, want)
}
