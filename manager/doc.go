// Package manager shares Go objects through a server process: Python's
// multiprocessing Manager, BaseManager and SyncManager, with the
// authenticated connections of multiprocessing.connection. A server owns
// dicts, lists, queues, locks and values (and objects of registered types);
// any process that can reach it — a child, an unrelated program, a program
// on another machine — uses them through proxies.
//
// Shared memory (packages value, array, ringqueue, semaphore) is orders of
// magnitude faster between this program's own processes; a manager trades
// that speed for reach, and for objects of any shape.
//
//	m, err := manager.Start(manager.Options{}) // a server in a child process
//	defer m.Close()
//	d, err := manager.NewDict[string, int](m)
//	q, err := manager.NewQueue[Job](m, 100)
//	p, err := procs.Start(worker, Args{Jobs: q, Results: d}) // proxies are arguments
//
// Start runs the server as a child process of this binary (so main, and
// TestMain, call procs.Main first). Serve runs one in the current process on
// any net.Listener; Connect (or Dial) reaches one by address and authkey.
//
// # Python -> manager
//
//	Manager() / BaseManager.start()           Start(Options{})
//	BaseManager(address, authkey).connect()   Connect(address, authkey)
//	get_server().serve_forever()              Serve(ctx, listener, opts)
//	manager.shutdown(), with Manager() as m   m.Shutdown(), m.Close()
//	BaseManager.register(typeid, callable)    Register(name, ctor); NewObject(m, name, args)
//	proxy.method(args) / _callmethod          Proxy.Call(ctx, "Method", args...), Call[R]
//	m.dict(), d[k], d[k] = v, del d[k]        NewDict[K, V](m), d.Get(k), d.Set(k, v), d.Delete(k)
//	d.keys(), d.items(), len(d), k in d       d.Keys(), d.Items(), d.Len(), d.Has(k)
//	m.list(), l.append(x), l[i], l[i:j]       NewList[T](m), l.Append(x), l.Get(i), l.Slice(i, j)
//	m.Namespace(), ns.x = 1, ns.x             NewNamespace(m), ns.Set("x", 1), ns.Get("x", &x)
//	m.Queue(maxsize), q.put, q.get(timeout=)  NewQueue[T](m, maxsize), q.Put, q.GetTimeout(d)
//	q.put_nowait, q.get_nowait, queue.Empty   q.TryPut, q.TryGet, ErrEmpty (ErrFull)
//	m.JoinableQueue(), task_done(), join()    NewJoinableQueue[T](m, n), q.TaskDone(), q.Join() (TryJoin, JoinContext, JoinTimeout)
//	m.Lock(), m.RLock()                       NewMutex(m), NewRLock(m)
//	acquire(), acquire(False), release()      Lock(), TryLock(), Unlock()
//	m.Semaphore(n), m.BoundedSemaphore(n)     NewSemaphore(m, n), NewBoundedSemaphore(m, n)
//	m.Condition(lock), wait, wait_for, notify NewCondition(m, lock), Wait, WaitFor (WaitForContext, WaitForTimeout), Notify(n)
//	m.Event(), set, clear, is_set, wait       NewEvent(m), Set, Clear, IsSet, Wait
//	m.Barrier(n), wait, abort, reset          NewBarrier(m, n), Wait, Abort, Reset
//	m.Value(typecode, v), v.value             NewValue[T](m, v), v.Get(), v.Set(x), v.Add(d)
//	m.Array(typecode, seq), a[i], len(a)      NewArray[T](m, seq), a.Get(i), a.Len()
//	AuthenticationError                       ErrAuth
//	proxy pickled to a child                  proxy as a procs argument (GobEncode)
//	current_process().authkey = key           Authorize(address, key)
//
// Every blocking proxy call comes as X, TryX, XContext(ctx) and
// XTimeout(d) (d == 0 tries once; d < 0 waits without limit), but for
// Condition.Wait and Barrier.Wait, which have no Try form: one waits for a
// Notify, the other for every party, and giving up at once would break
// the barrier for everyone.
//
// # Addresses
//
// A unix socket by default: an abstract one (no file, gone with the server)
// named after the process. "/path" or "unix:/path" is a socket file,
// removed when the server stops; "@name" an abstract socket of that name;
// "tcp://host:port" (or "host:port") is TCP. An empty host binds loopback,
// 127.0.0.1; reaching a server from another machine takes an explicit
// address such as "tcp://0.0.0.0:5000". See Listen.
//
// # Shared types
//
// Built in, each a proxy type with a New function: Dict[K, V], List[T],
// Namespace, Queue[T], JoinableQueue[T], Mutex, RLock, Semaphore (also
// bounded), Condition, Event, Barrier, Value[T], Array[T]. The objects are
// Go values in the server, not shared memory: every method is one round
// trip, atomic on the server, and proxies are safe for concurrent use.
// Values are encoded per proxy type (codec.go): scalars in a canonical form,
// anything else as gob; the server stores the bytes without decoding them.
// Dict keys are compared by their canonical encoding, so a key type must be
// a scalar, an array or struct of scalars, or an interface holding a
// scalar. Register adds user types, whose exported methods proxies call by
// name (Proxy.Call).
//
// Blocking calls follow the module's pattern: X waits, TryX never does,
// XContext and XTimeout bound the wait. They wait in the server; the
// connection is multiplexed, so a Queue.Get waiting there holds up no other
// call, from any goroutine.
//
// # Lifetime
//
// Reference counting, as Python's manager does, with references counted
// per connection. Each proxy holds one reference; Close releases it, so
// does the garbage collector for a proxy dropped without Close, and so does
// the end of its connection (Close on the Manager, or the client's death).
// An object nobody references is dropped at once. Encoding a proxy (to pass
// it to a child) takes a transit reference that the decoding process
// redeems, so the sender may close its proxy right away; an unredeemed one
// lapses after Options.TransitTTL. A name (Named) holds an object until
// Manager.Unname or shutdown: that is how unrelated programs share one.
//
// # Cancellation
//
// When an XContext call's context ends, the client tells the server to
// abandon the call and waits for its verdict (at most Options.CancelGrace).
// If the call completed first — a Get that already took an item — its
// result is returned and nothing is lost; otherwise the context's cause is
// (ErrTimeout for the Timeout forms, which also matches
// context.DeadlineExceeded). A server method sees the cancellation as its
// context ending. Built-in objects answer a cancellation at once; only a
// server too slow to answer within the grace — or a registered method that
// ignores its context — can leave a call that completes after the caller
// gave up (a lock taken, an item consumed, with nobody told).
//
// # Failures
//
// A client killed mid-call costs the server that connection: its calls are
// cancelled, its references dropped, and a blocked Get it left behind takes
// nothing once the server has seen the connection end (an item already
// handed to a reply that can no longer be delivered is lost, as in
// Python). A lock (Mutex, RLock, a Condition's) held by a connection that
// ends is released, and its next taker gets ErrOwnerDead together with the
// lock. A Barrier waiter that goes breaks the barrier. Semaphore units and
// JoinableQueue tasks are not owned: a dead client's stay taken.
//
// A call in flight when the server dies, or when the network fails,
// returns ErrClosed: the connection's end fails every call waiting on it.
// Shutdown cancels the calls in flight, which answer ErrShutdown, then
// closes every connection.
//
// Hostile or broken input costs one connection, bounded memory and bounded
// time, never the process: frames longer than Options.MaxFrame are refused
// before their bytes are read, a frame's body is allocated as its bytes
// arrive, the rest of a frame must follow its first byte within
// FrameTimeout, a reply must be taken within WriteTimeout, authentication
// must finish within HandshakeTimeout (and at most MaxHandshakes run at
// once), and calls in flight per connection are bounded in number and
// bytes (beyond them: ErrBusy). A panic in a registered method fails that
// call. The frame decoder is fuzzed (internal/protocol, FuzzReadFrame).
//
// # Security
//
// The authkey is the only credential. The handshake proves both sides know
// it without sending it, with a fresh nonce each time; it neither encrypts
// nor protects the frames that follow, so over a network you do not trust,
// carry the connection through a tunnel (SSH, WireGuard) or serve on a TLS
// listener (Serve takes any net.Listener). The default socket is a unix
// socket, reachable from this machine only; an abstract one has no file
// permissions, so any local user may dial it — and must still answer the
// challenge. TCP binds loopback unless told otherwise. Keep keys random
// (Start makes 32 bytes) and out of argv and logs.
//
// An encoded proxy carries its server's address, never the key. A child
// started by procs.Start with proxies in its argument gets the key beside
// the bytes, in a descriptor, as segments cross; any other process decodes
// a proxy only for a server it holds the key of (it connected there
// itself, or the program called Authorize), and otherwise fails with
// ErrAuth without dialling anything: bytes from elsewhere cannot make it
// offer its key's proof to a server they name. As in Python, whose
// children inherit the parent's authkey. Values travel as gob and
// canonical bytes, never as pickles: decoding them builds data, it cannot
// run code; a registered type runs only the methods it exports.
//
// The protocol (Python's handshake, then length-prefixed frames) is
// written down beside the code that speaks it: internal/protocol for the
// handshake, frames and bodies, control.go for the calls every connection
// can make, codec.go for how values are encoded.
//
// # Performance
//
// A call costs one round trip on a socket, and on a virtual machine the
// round trip's cost is its thread wake-ups: waking an idle vCPU takes
// 15–35 µs, more than everything else a call does. So a call wakes one
// thread on each side and nothing more, as Python's managers do: the
// caller writes its request itself and, alone on the connection, reads its
// own reply (client_read.go); the server answers a call that cannot block
// inline on the connection's reader; no deadline timer is armed per frame
// and no socket call goes through the scheduler's syscall path, either of
// which wakes another thread (netio.go). Calls from many goroutines overlap
// on one connection, and their frames travel in bursts both ways (a write
// for many requests, a write for many replies). A Value's or Dict's call
// with fixed-size values allocates nothing in the client. Options.Spin
// trades CPU for the wake-ups, where there are cores to spare.
//
// The benchmarks measure a round trip (one caller and eight, unix and TCP)
// and a Dict Set+Get beside Python's Manager in the same run (the
// "x-python" metric is Python's time per op over Go's); the bench
// package's compare command shows the same beside the module's other
// figures:
//
//	go test -run XXX -bench . -benchtime 2s ./manager/
package manager
