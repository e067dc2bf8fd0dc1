package manager

import (
	"context"
	"fmt"
)

// A methods table is what a client may call on one server type. Each entry
// says how many arguments the method takes; call checks the count once,
// here, so a method body may index args without checking, and a name not
// in the table is ErrNoMethod.
type methods[T any] map[string]method[T]

type method[T any] struct {
	args int // exact argument count, or anyArgs: the body checks (pairs...)
	run  func(o T, ctx context.Context, c caller, args [][]byte) ([][]byte, error)
}

// anyArgs marks a method whose argument count varies.
const anyArgs = -1

// call runs o's method name; typ names the type in errors ("dict").
func (ms methods[T]) call(o T, typ string, ctx context.Context, c caller, name string, args [][]byte) ([][]byte, error) {
	m, ok := ms[name]
	if !ok {
		return nil, fmt.Errorf("%s: %q: %w", typ, name, ErrNoMethod)
	}
	if m.args != anyArgs {
		if err := argCount(args, m.args); err != nil {
			return nil, err
		}
	}
	return m.run(o, ctx, c, args)
}
