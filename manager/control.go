package manager

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/multiproc-go/multiproc/manager/internal/protocol"
)

// The protocol above the frames (internal/protocol carries them): a
// request names an object by id and a method by name. Replies come in
// completion order, matched to requests by id; ids are never reused on a
// connection. Error codes name this package's sentinel errors (errors.go,
// append-only); any other error travels as code 1, ErrRemote, with its
// text. Object id 0 is the control object below. Arguments and results of
// built-in objects are canonical values or gob values (codec.go) or bare
// varints (indexes, counts, owner tokens); a registered type's are one gob
// value each.

// protocolVersion is what hello exchanges; a server refuses another.
const protocolVersion = 1

// Methods of the control object, id 0. Every connection may call them; the
// connection a call arrives on is the one whose references change.
const (
	ctlHello    = "hello"    // version -> version, server pid
	ctlCreate   = "create"   // type, constructor args... -> id
	ctlOpen     = "open"     // name, type, constructor args... -> id, created
	ctlAttach   = "attach"   // id, ticket, type -> ()
	ctlTransit  = "transit"  // id -> ticket
	ctlRelease  = "release"  // id -> ()
	ctlUnname   = "unname"   // name -> ()
	ctlStats    = "stats"    // -> objects, named, conns, transit
	ctlTypes    = "types"    // -> type names
	ctlShutdown = "shutdown" // -> (), then the server shuts down
)

func (s *Server) control(ctx context.Context, c caller, method string, args [][]byte) ([][]byte, error) {
	switch method {
	case ctlHello:
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		v, err := getUint(args[0])
		if err != nil {
			return nil, err
		}
		if v != protocolVersion {
			return nil, fmt.Errorf("client speaks version %d, server %d: %w", v, protocolVersion, ErrVersion)
		}
		return [][]byte{uintArg(protocolVersion), uintArg(uint64(os.Getpid()))}, nil

	case ctlCreate:
		if len(args) < 1 {
			return nil, fmt.Errorf("create: no type: %w", ErrBadArgs)
		}
		typ := string(args[0])
		obj, err := s.construct(typ, args[1:])
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.gone() { // nobody would ever release it
			return nil, ErrClosed
		}
		return [][]byte{uintArg(s.add(typ, obj, c.conn).id)}, nil

	case ctlOpen:
		if len(args) < 2 {
			return nil, fmt.Errorf("open: want a name and a type: %w", ErrBadArgs)
		}
		return s.open(c, string(args[0]), string(args[1]), args[2:])

	case ctlAttach:
		if err := argCount(args, 3); err != nil {
			return nil, err
		}
		id, err1 := getUint(args[0])
		tk, err2 := getUint(args[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("attach: %w", ErrBadArgs)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.gone() {
			return nil, ErrClosed
		}
		_, err := s.attach(id, tk, c.conn, string(args[2]))
		return nil, err

	case ctlTransit:
		id, err := oneUint(args)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		e, err := s.lookup(id)
		if err != nil {
			return nil, err
		}
		return [][]byte{uintArg(s.newTicket(e, s.opts.TransitTTL, s.locked))}, nil

	case ctlRelease:
		id, err := oneUint(args)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return nil, s.release(id, c.conn)

	case ctlUnname:
		if err := argCount(args, 1); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		e, ok := s.names[string(args[0])]
		if !ok {
			return nil, fmt.Errorf("name %q: %w", args[0], ErrNotFound)
		}
		delete(s.names, e.name)
		e.name = ""
		s.collect(e)
		return nil, nil

	case ctlStats:
		st := s.Stats()
		return [][]byte{uintArg(uint64(st.Objects)), uintArg(uint64(st.Named)), uintArg(uint64(st.Conns)), uintArg(uint64(st.Transit))}, nil

	case ctlTypes:
		names := registeredTypes()
		for n := range builtins {
			names = append(names, n)
		}
		sort.Strings(names)
		out := make([][]byte, len(names))
		for i, n := range names {
			out[i] = []byte(n)
		}
		return out, nil

	case ctlShutdown:
		// After this call's reply: Shutdown waits for calls in flight to answer.
		go s.Shutdown()
		return nil, nil
	}
	return nil, fmt.Errorf("control: %q: %w", method, ErrNoMethod)
}

// locked runs f under the server's mutex (a ticket's lapse).
func (s *Server) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// open finds the object held by name, or creates it (of type typ, from
// args) and names it, and gives the caller a reference.
func (s *Server) open(c caller, name, typ string, args [][]byte) ([][]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("open: empty name: %w", ErrInvalid)
	}
	s.mu.Lock()
	if e, ok := s.names[name]; ok {
		defer s.mu.Unlock()
		if c.gone() {
			return nil, ErrClosed
		}
		if _, err := s.attach(e.id, 0, c.conn, typ); err != nil {
			return nil, fmt.Errorf("name %q: %w", name, err)
		}
		return [][]byte{uintArg(e.id), boolArg(false)}, nil
	}
	s.mu.Unlock()
	// Construct outside the mutex: a registered constructor may take long.
	obj, err := s.construct(typ, args)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gone() {
		return nil, ErrClosed
	}
	if e, ok := s.names[name]; ok { // created meanwhile by another client: theirs wins
		if _, err := s.attach(e.id, 0, c.conn, typ); err != nil {
			return nil, fmt.Errorf("name %q: %w", name, err)
		}
		return [][]byte{uintArg(e.id), boolArg(false)}, nil
	}
	e := s.add(typ, obj, c.conn)
	e.name = name
	s.names[name] = e
	return [][]byte{uintArg(e.id), boolArg(true)}, nil
}

func oneUint(args [][]byte) (uint64, error) {
	if err := argCount(args, 1); err != nil {
		return 0, err
	}
	return getUint(args[0])
}

// construct makes a new object of a built-in or registered type.
func (s *Server) construct(typ string, args [][]byte) (object, error) {
	if b, ok := builtins[typ]; ok {
		if b.args != anyArgs {
			if err := argCount(args, b.args); err != nil {
				return nil, err
			}
		}
		return b.make(s, args)
	}
	if rt, ok := lookupType(typ); ok {
		return rt.construct(args)
	}
	return nil, fmt.Errorf("type %q is neither built in nor registered: %w", typ, ErrNotFound)
}

// blocking lists the built-in methods that may wait; every other built-in
// method runs inline (see route).
var blocking = map[string]bool{
	"Put": true, "Get": true, "Join": true, // a Queue's (List.Get and Dict.Get never wait: see route)
	"Lock": true, "Acquire": true, "Wait": true,
}

// route finds req's object (nil for the control object) and says whether
// the call can be answered inline, without a goroutine: a control call
// other than a creation (a registered constructor may take its time), a
// method of a built-in object that never waits, or a call to a missing
// object (answered at once). Registered types' methods never run inline.
func (s *Server) route(req protocol.Request) (e *entry, inline bool, err error) {
	if req.Object == 0 {
		return nil, req.Method != ctlCreate && req.Method != ctlOpen && req.Method != ctlShutdown, nil
	}
	s.mu.Lock()
	e, err = s.lookup(req.Object)
	s.mu.Unlock()
	if err != nil {
		return nil, true, err
	}
	switch e.obj.(type) {
	case *queueObject, *lockObject, *conditionObject, *semaphoreObject, *eventObject, *barrierObject:
		return e, !blocking[req.Method], nil
	case *regObject:
		return e, false, nil
	}
	return e, true, nil // dict, list, value, array, namespace: nothing waits
}
