package manager

import (
	"context"
	"fmt"
	"time"
)

// Object lifetime: reference counting, as Python's manager does, with the
// references counted per connection. Every proxy holds one reference on its
// connection. An object lives while any of these holds it:
//
//   - a reference of a live connection (creating an object gives the creator
//     one; attaching a decoded proxy adds one; Close on a proxy drops one);
//   - a transit ticket: encoding a proxy for another process takes one, the
//     process that decodes it redeems it, and an unredeemed ticket lapses
//     after Options.TransitTTL. It bridges the moment between a parent
//     handing a proxy to a child and the child attaching, so the parent may
//     close its own proxy at once;
//   - a name (the Named option), until Unname or shutdown.
//
// When a connection ends — closed, or its process killed — its references
// go; an object nobody holds any more is dropped at once. Calls already
// running on it finish normally.
type table struct {
	objects map[uint64]*entry
	names   map[string]*entry
	tickets map[uint64]*ticket
	lastID  uint64 // objects and tickets share the count: ids are never reused
}

type entry struct {
	id      uint64
	typ     string
	obj     object
	refs    map[uint64]int // connection id -> references it holds
	transit int            // tickets outstanding
	name    string         // non-empty: held by this name
}

type ticket struct {
	e     *entry
	timer *time.Timer
}

func newTable() table {
	return table{objects: map[uint64]*entry{}, names: map[string]*entry{}, tickets: map[uint64]*ticket{}}
}

func (e *entry) held() bool { return len(e.refs) > 0 || e.transit > 0 || e.name != "" }

// An object is what the server keeps behind an id. call runs a method;
// ctx ends when the client cancels, the connection ends or the server shuts
// down. Calls come concurrently: an object guards its own state.
type object interface {
	call(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error)
}

// A connWatcher is told when a connection ends, after its context ended
// (so caller.gone reports true for it from then on): locks use it to
// release what a dead client held.
type connWatcher interface {
	connClosed(conn uint64)
}

// A caller identifies the connection a call came on.
type caller struct {
	conn uint64
	// life ends when the connection does (or the server shuts down).
	life context.Context
}

// gone reports whether the caller's connection has ended. Objects check it
// under their mutex before granting anything that needs a release (a
// lock): the connection's context ends before connClosed runs, so either
// the grant happens first and connClosed undoes it, or gone is true.
func (c caller) gone() bool { return c.life.Err() != nil }

// add puts a new object in the table with one reference from conn.
func (t *table) add(typ string, obj object, conn uint64) *entry {
	t.lastID++
	e := &entry{id: t.lastID, typ: typ, obj: obj, refs: map[uint64]int{conn: 1}}
	t.objects[e.id] = e
	return e
}

func (t *table) lookup(id uint64) (*entry, error) {
	e, ok := t.objects[id]
	if !ok {
		return nil, fmt.Errorf("object %d: %w", id, ErrNoObject)
	}
	return e, nil
}

// attach gives conn a reference to object id, redeeming ticket if it is
// still outstanding (0: none). want, if set, must be the object's type.
func (t *table) attach(id, tk uint64, conn uint64, want string) (*entry, error) {
	e, err := t.lookup(id)
	if err != nil {
		return nil, err
	}
	if want != "" && e.typ != want {
		return nil, fmt.Errorf("object %d is a %s, not a %s: %w", id, e.typ, want, ErrType)
	}
	if k, ok := t.tickets[tk]; ok && k.e == e {
		k.timer.Stop()
		delete(t.tickets, tk)
		e.transit--
	}
	e.refs[conn]++
	return e, nil
}

// release drops one of conn's references to object id.
func (t *table) release(id uint64, conn uint64) error {
	e, err := t.lookup(id)
	if err != nil {
		return err
	}
	if e.refs[conn] == 0 {
		return fmt.Errorf("object %d: this connection holds no reference: %w", id, ErrInvalid)
	}
	if e.refs[conn]--; e.refs[conn] == 0 {
		delete(e.refs, conn)
	}
	t.collect(e)
	return nil
}

// newTicket takes a transit reference on e that lapses after ttl; lapse
// runs (under the server's mutex, by the caller's arrangement) when the
// timer fires.
func (t *table) newTicket(e *entry, ttl time.Duration, lapse func(func())) uint64 {
	t.lastID++
	id := t.lastID
	e.transit++
	k := &ticket{e: e}
	k.timer = time.AfterFunc(ttl, func() {
		lapse(func() {
			if t.tickets[id] == k {
				delete(t.tickets, id)
				e.transit--
				t.collect(e)
			}
		})
	})
	t.tickets[id] = k
	return id
}

// collect drops e if nothing holds it any more.
func (t *table) collect(e *entry) {
	if !e.held() && t.objects[e.id] == e {
		delete(t.objects, e.id)
	}
}

// dropConn forgets conn's references and returns the objects to tell
// (every connWatcher, dropped or not: a Condition may still use a lock
// that lost its last proxy).
func (t *table) dropConn(conn uint64) []connWatcher {
	var ws []connWatcher
	for _, e := range t.objects {
		if w, ok := e.obj.(connWatcher); ok {
			ws = append(ws, w)
		}
		if _, ok := e.refs[conn]; ok {
			delete(e.refs, conn)
			t.collect(e)
		}
	}
	return ws
}

func (t *table) clear() {
	for _, k := range t.tickets {
		k.timer.Stop()
	}
	*t = newTable()
}
