package manager

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// counter is a registered type as a user would write one.
type counter struct {
	mu      sync.Mutex
	n       int
	changed chan struct{}
}

func (c *counter) Add(d int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += d
	close(c.changed)
	c.changed = make(chan struct{})
	return c.n
}

func (c *counter) Get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// AtLeast blocks until the count reaches n or ctx ends.
func (c *counter) AtLeast(ctx context.Context, n int) (int, error) {
	for {
		c.mu.Lock()
		v, ch := c.n, c.changed
		c.mu.Unlock()
		if v >= n {
			return v, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return v, ctx.Err()
		}
	}
}

func (c *counter) Pair(prefix string) (string, int) { return prefix + "!", c.Get() }
func (c *counter) Fail(msg string) error            { return errors.New(msg) }
func (c *counter) Lookup(k string) error            { return fmt.Errorf("key %q: %w", k, ErrNotFound) }
func (c *counter) Boom()                            { panic("boom") }
func (c *counter) Variadic(xs ...int)               {}
func (c *counter) unexported()                      {} //lint:ignore U1000 it must exist to be refused

var counterType = Register("test.counter", func(start int) (*counter, error) {
	if start < 0 {
		return nil, fmt.Errorf("negative start %d: %w", start, ErrInvalid)
	}
	return &counter{n: start, changed: make(chan struct{})}, nil
})

func TestRegisteredTypeMethodsAreCalledByName(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	p, err := NewObject(m, counterType, []any{10})
	require.NoError(t, err)
	assert.Equal(t, counterType, p.Type())
	n, err := Call[int](bg, p, "Add", 5)
	require.NoError(t, err)
	assert.Equal(t, 15, n)

	res, err := p.Call(bg, "Pair", "hi")
	require.NoError(t, err)
	var s string
	var v int64 // gob: an int result fills an int64
	require.NoError(t, res.Decode(&s, &v))
	assert.Equal(t, "hi!", s)
	assert.Equal(t, int64(15), v)
	assert.Equal(t, 2, res.Len())

	types, err := m.Types()
	require.NoError(t, err)
	assert.Contains(t, types, counterType)
	assert.Contains(t, types, typeDict)
}

func TestRegisteredTypeErrorsCrossTheWire(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	p, err := NewObject(m, counterType, []any{0})
	require.NoError(t, err)

	_, err = p.Call(bg, "Fail", "it broke")
	var re *RemoteError
	require.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, ErrRemote)
	assert.Equal(t, "it broke", re.Message)

	_, err = p.Call(bg, "Lookup", "k")
	assert.ErrorIs(t, err, ErrNotFound, "a wrapped sentinel keeps its identity")

	_, err = p.Call(bg, "Boom")
	assert.ErrorContains(t, err, "panic")
	_, err = Call[int](bg, p, "Get")
	assert.NoError(t, err, "a panicking method fails its call, not the server")

	for _, method := range []string{"Nope", "unexported", "Variadic"} {
		_, err = p.Call(bg, method)
		assert.ErrorIs(t, err, ErrNoMethod, method)
	}
	_, err = p.Call(bg, "Add", "not an int")
	assert.ErrorIs(t, err, ErrBadArgs)
	_, err = p.Call(bg, "Add")
	assert.ErrorIs(t, err, ErrBadArgs)

	_, err = NewObject(m, counterType, []any{-1})
	assert.ErrorIs(t, err, ErrInvalid, "the constructor's error")
	_, err = NewObject(m, "no.such.type", nil)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestRegisteredMethodSeesTheCallsContext(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	p, err := NewObject(m, counterType, []any{0})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(bg)
	errc := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, "AtLeast", 100)
		errc <- err
	}()
	srvWaiting(t, m, 1)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)

	got := make(chan int, 1)
	go func() {
		v, err := Call[int](bg, p, "AtLeast", 2)
		assert.NoError(t, err)
		got <- v
	}()
	srvWaiting(t, m, 1)
	_, err = Call[int](bg, p, "Add", 2)
	require.NoError(t, err)
	assert.Equal(t, 2, <-got)
}

func TestRegisterRefusesBadConstructors(t *testing.T) {
	for name, ctor := range map[string]any{
		"not a func":   42,
		"no result":    func() {},
		"error only":   func() error { return nil },
		"variadic":     func(...int) *counter { return nil },
		"interface in": func(any) *counter { return nil },
	} {
		assert.Panics(t, func() { Register("bad."+name, ctor) }, name)
	}
	assert.Panics(t, func() { Register(typeDict, func() *counter { return nil }) }, "a built-in name")
	assert.Panics(t, func() { Register(counterType, func() *counter { return nil }) }, "twice")
}
