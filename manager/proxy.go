package manager

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"runtime"
	"sync/atomic"
)

// A ref is what every proxy holds: its object's id on a connection, and
// one reference to the object on the server (see table.go for lifetime).
type ref struct {
	c      *client
	id     uint64
	typ    string
	shared bool   // c is a shared client (the proxy was decoded): release it on Close
	token  uint64 // owner token for locks: random per proxy value
	closed atomic.Bool
	clean  runtime.Cleanup
}

func newRef(c *client, id uint64, typ string, shared bool) *ref {
	r := &ref{c: c, id: id, typ: typ, shared: shared, token: randomToken()}
	// A proxy dropped without Close releases its reference when the garbage
	// collector finds it, as Python's proxies do when collected.
	r.clean = runtime.AddCleanup(r, releaseLost, lost{c: c, id: id, shared: shared})
	return r
}

func randomToken() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1
}

type lost struct {
	c      *client
	id     uint64
	shared bool
}

// releaseLost runs on the runtime's cleanup goroutine, which must not
// block: the release goes out from a goroutine of its own.
func releaseLost(l lost) {
	go func() {
		if !l.c.broken() {
			_, _ = l.c.control(ctlRelease, uintArg(l.id))
		}
		if l.shared {
			releaseShared(l.c)
		}
	}()
}

func (r *ref) site(method string) site { return site{typ: r.typ, id: r.id, method: method} }

// call runs method on the object.
func (r *ref) call(ctx context.Context, method string, args ...[]byte) ([][]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("manager: %s on a nil proxy: %w", method, ErrInvalid)
	}
	if r.closed.Load() {
		return nil, fmt.Errorf("manager: %v: proxy closed: %w", r.site(method), ErrClosed)
	}
	return r.c.call(ctx, r.site(method), r.id, method, args)
}

var bg = context.Background()

// do is call without a context: for calls that never block on the server.
func (r *ref) do(method string, args ...[]byte) ([][]byte, error) {
	return r.call(context.Background(), method, args...)
}

// one runs a call that must return exactly one result.
func (r *ref) one(ctx context.Context, method string, args ...[]byte) ([]byte, error) {
	res, err := r.call(ctx, method, args...)
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("manager: %v: %d results: %w", r.site(method), len(res), ErrProtocol)
	}
	return res[0], nil
}

func (r *ref) int(method string, args ...[]byte) (int, error) {
	b, err := r.one(context.Background(), method, args...)
	if err != nil {
		return 0, err
	}
	n, err := getInt(b)
	if err != nil {
		return 0, fmt.Errorf("manager: %v: %w", r.site(method), ErrProtocol)
	}
	return int(n), nil
}

func (r *ref) bool(method string, args ...[]byte) (bool, error) {
	b, err := r.one(context.Background(), method, args...)
	if err != nil {
		return false, err
	}
	v, err := getBool(b)
	if err != nil {
		return false, fmt.Errorf("manager: %v: %w", r.site(method), ErrProtocol)
	}
	return v, nil
}

// close releases the proxy's reference. Closing twice is a no-op; after a
// close every call fails with ErrClosed. If the connection is already gone
// the server dropped the reference itself, so that is no error.
func (r *ref) close() error {
	if r == nil || r.closed.Swap(true) {
		return nil
	}
	r.clean.Stop()
	var err error
	if !r.c.broken() {
		if _, err = r.c.control(ctlRelease, uintArg(r.id)); r.c.broken() {
			err = nil
		}
	}
	if r.shared {
		releaseShared(r.c)
	}
	return err
}

// A wireRef is a proxy as it crosses to another process. It carries no
// authkey (keys.go): a process that decodes it must hold the key for
// Address already, or be a child given it with its argument (KeyFile).
type wireRef struct {
	Address string
	ID      uint64
	Type    string
	Ticket  uint64
	// KeyFile is one plus the index of the descriptor, exported with the
	// child's argument, that holds Address and its key; 0 for none.
	KeyFile int
}

// encode takes a transit ticket, so the object outlives this proxy until
// the receiver attaches (or Options.TransitTTL passes), and packs the
// proxy for gob.
func (r *ref) encode() ([]byte, error) {
	if r == nil || r.closed.Load() {
		return nil, fmt.Errorf("manager: encoding a closed proxy: %w", ErrClosed)
	}
	res, err := r.c.control(ctlTransit, uintArg(r.id))
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("manager: transit: %w", ErrProtocol)
	}
	tk, err := getUint(res[0])
	if err != nil {
		return nil, fmt.Errorf("manager: transit: %w", ErrProtocol)
	}
	kf, err := r.c.exportKey()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := wireRef{Address: r.c.address, ID: r.id, Type: r.typ, Ticket: tk, KeyFile: kf}
	if err := gob.NewEncoder(&buf).Encode(w); err != nil {
		return nil, fmt.Errorf("manager: encoding a proxy: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeRef connects to the server a proxy names (sharing one connection
// per server in this process), with the key this process holds for that
// address, and attaches to its object.
// want is the proxy's type; accept, if set, widens it (a Semaphore proxy
// serves both semaphore kinds).
func decodeRef(b []byte, want string, accept func(string) bool) (*ref, error) {
	var w wireRef
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
		return nil, fmt.Errorf("manager: decoding a proxy: %w", err)
	}
	if w.Type != want && (accept == nil || !accept(w.Type)) {
		return nil, fmt.Errorf("manager: decoding a %s proxy from a %s: %w", want, w.Type, ErrType)
	}
	typ := w.Type
	address := canonical(w.Address)
	if w.KeyFile > 0 {
		from, err := inheritKey(w.KeyFile - 1)
		if err != nil {
			return nil, err
		}
		if from != address {
			return nil, fmt.Errorf("manager: decoding a proxy of %s: its key descriptor is for %s: %w", address, from, ErrProtocol)
		}
	}
	key := keyFor(address)
	if key == nil {
		return nil, fmt.Errorf("manager: decoding a proxy of %s: this process holds no key for that server "+
			"(a child gets it with its procs.Start argument; elsewhere use Authorize, or Connect first): %w", address, ErrAuth)
	}
	c, err := sharedClient(address, key)
	if err != nil {
		return nil, err
	}
	if _, err := c.control(ctlAttach, uintArg(w.ID), uintArg(w.Ticket), []byte(typ)); err != nil {
		releaseShared(c)
		return nil, err
	}
	return newRef(c, w.ID, typ, true), nil
}

// An ObjectOption configures the creation of a shared object.
type ObjectOption func(*objectOptions)

type objectOptions struct{ name string }

// Named makes the object findable by name: the call returns the object
// already held by that name (of the same type, else ErrType) or creates it
// and names it. The name holds the object until Manager.Unname or the
// server's shutdown, so programs that come and go — including unrelated
// programs that only know the address, the key and the name — share it.
// Creation arguments (a queue's size, a value's initial value) apply only
// to the call that creates it.
func Named(name string) ObjectOption { return func(o *objectOptions) { o.name = name } }

// create makes (or, Named, finds) an object of type typ on m's connection.
func (m *Manager) create(typ string, args [][]byte, opts []ObjectOption) (*ref, error) {
	var o objectOptions
	for _, opt := range opts {
		opt(&o)
	}
	if m == nil {
		return nil, fmt.Errorf("manager: creating a %s: nil manager: %w", typ, ErrInvalid)
	}
	method, head := ctlCreate, [][]byte{[]byte(typ)}
	if o.name != "" {
		method, head = ctlOpen, [][]byte{[]byte(o.name), []byte(typ)}
	}
	// No timeout: a registered constructor may take its time, and a dead
	// server ends the connection, which ends the call.
	res, err := m.c.call(context.Background(), site{typ: typ, method: method}, 0, method, append(head, args...))
	if err != nil {
		return nil, err
	}
	if len(res) < 1 {
		return nil, fmt.Errorf("manager: %s: %w", method, ErrProtocol)
	}
	id, err := getUint(res[0])
	if err != nil {
		return nil, fmt.Errorf("manager: %s: %w", method, ErrProtocol)
	}
	return newRef(m.c, id, typ, false), nil
}
