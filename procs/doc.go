// Package procs starts processes of the running program and ships them
// arguments, shared objects included — Python's multiprocessing.Process,
// done the Go way.
//
// Go cannot fork a running runtime, so a child is the same binary started
// again (/proc/self/exe), told by its environment which registered function
// to run:
//
//	var square = procs.Register("square", func(x int) (int, error) { return x * x, nil })
//
//	func main() {
//		procs.Main() // first line: in a child this runs the function and exits
//		n, err := procs.Run(square, 7)
//		...
//	}
//
// Register functions at package level, so that the child has them before
// Main runs. Main must come first in main: a child that skips it would run
// its parent's main again, so Start in such a child exits it with code 2
// and ErrNoMain, which names the fix.
//
// Arguments and results cross by gob. Shared objects (segments, and every
// type that lives in one: values, arrays, locks, queues) encode as
// handles; the segments they name travel as inherited descriptors and
// re-attach in the child before the argument is decoded. To a process that
// already runs, they travel in a value sent over a duplex Conn or in a
// Pool task's argument, their descriptors with the message (SCM_RIGHTS);
// Conns travel the same ways. procs knows none of
// those types: they plug in through shm.EncodeRef and shm.Decode.
//
// # Lifecycle
//
// Start returns a running *Process; Join (or TryJoin, JoinContext,
// JoinTimeout) waits for it. Exit codes follow Python: 0; 1 when the function returned an error
// or panicked (the panic and its stack go to the child's stderr, and Join's
// *ExitError carries the message); what the child passed to os.Exit; -N
// when signal N killed it. A child is reaped as soon as it ends, so none is
// ever left a zombie. A daemon child (WithDaemon) is killed when its parent
// dies, by SIGKILL too: the kernel's parent-death signal, sent from a thread
// that lives as long as the process. A non-daemon child outlives its
// parent; ParentContext gives it a context cancelled when the parent dies,
// for its blocking calls. A Process that Start did not make (the zero
// value) is not alive, and waiting for it fails at once with ErrNotStarted.
//
// A child inherits standard output and error, the environment, and only
// the descriptors its argument names: Main closes any other that reached
// it.
//
// # Python → procs
//
//	Process(target=f, args=(x,)).start()   procs.Start(f, x)
//	p.join() / p.join(timeout) / join(0)   p.Join() / p.JoinTimeout(d), p.JoinContext(ctx) / p.TryJoin()
//	p.is_alive(), p.exitcode, p.pid        p.IsAlive(), p.ExitCode(), p.Pid()
//	p.terminate(), p.kill()                p.Terminate(), p.Kill()
//	p.daemon = True                        procs.WithDaemon(true)
//	current_process(), parent_process()    procs.Current(), procs.ParentContext()
//	active_children()                      procs.ActiveChildren()
//	Pipe(duplex)                           procs.Pipe(duplex)
//	conn.send(x), conn.recv()              c.Send(x), c.Recv(&x) / procs.RecvValue[T](c)
//	conn.send_bytes, recv_bytes(_into)     c.SendBytes, c.RecvBytes, c.RecvBytesInto
//	conn.poll(t), connection.wait(cs, t)   c.Poll(t), procs.Wait(cs, t)
//	conn.poll(t) then conn.recv()          c.RecvTimeout(&x, t), c.RecvContext(ctx, &x); poll(0): c.TryRecv(&x)
//	Pool(n, initializer, maxtasksperchild) procs.NewPool(n, procs.WithInitializer(f, x), procs.WithMaxTasksPerChild(k))
//	pool.apply(f, (x,))                    procs.Apply(pool, f, x)
//	pool.apply_async(f, (x,), callback)    procs.ApplyAsync(pool, f, x, procs.OnResult(cb)) → *AsyncResult
//	apply_async(f, (x,)).get(t)            procs.ApplyTimeout(pool, f, x, t), procs.ApplyContext(ctx, pool, f, x)
//	async_result.get(t), wait(t), ready()  r.GetTimeout(t), r.WaitTimeout(t), r.Ready() (r.TryGet, r.TryWait)
//	pool.map / map_async(f, xs, chunk)     procs.Map / procs.MapAsync(pool, f, xs, chunk)
//	map_async(f, xs).get(t)                procs.MapTimeout(pool, f, xs, 0, t), procs.MapContext(ctx, pool, f, xs, 0)
//	pool.imap / imap_unordered             procs.Imap / procs.ImapUnordered (iter.Seq in, iter.Seq2 out)
//	pool.starmap(f, [(a, b), ...])         procs.Starmap(pool, f2, []procs.Args2[A, B]{...}), f2 from procs.Register2
//	pool.close(), join(), terminate()      pool.Close(), pool.Join() (TryJoin, JoinContext, JoinTimeout), pool.Terminate()
//
// Every blocking call has the Try, Context and Timeout forms where they
// make sense (see the README's conventions for the exceptions: no Try form
// for calls that submit work, no bounded Send, Poll and Wait in Python's
// shape).
package procs
