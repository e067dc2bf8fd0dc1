package manager

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Functions the test binary runs as child processes.

type fillJob struct {
	D       *Dict[string, int]
	From, N int
	Done    *Semaphore
}

var fillDict = procs.Register("manager.test.fillDict", func(j fillJob) (int, error) {
	defer j.D.Detach()
	for i := range j.N {
		if err := j.D.Set(fmt.Sprint(j.From+i), i); err != nil {
			return 0, err
		}
	}
	return j.N, nil
})

type squareJob struct{ In, Out *Queue[int] }

var squareWorker = procs.Register("manager.test.square", func(j squareJob) (int, error) {
	n := 0
	for {
		v, err := j.In.Get()
		if err != nil {
			return n, err
		}
		if v < 0 {
			return n, nil
		}
		if err := j.Out.Put(v * v); err != nil {
			return n, err
		}
		n++
	}
})

// hangJob: take the lock (if any), say so, then block in a Get (if any)
// or for ever: the parent kills it there.
type hangJob struct {
	L     *Mutex
	Q     *Queue[int]
	Ready *Event
}

var hang = procs.Register("manager.test.hang", func(j hangJob) (struct{}, error) {
	if j.L != nil {
		if err := j.L.Lock(); err != nil {
			return struct{}{}, err
		}
	}
	if err := j.Ready.Set(); err != nil {
		return struct{}{}, err
	}
	if j.Q != nil {
		_, err := j.Q.Get()
		return struct{}{}, fmt.Errorf("Get returned: %v", err)
	}
	testutil.BlockForever()
	return struct{}{}, nil
})

// connectJob is an unrelated program: it knows an address, a key and a
// name, no proxy.
type connectJob struct {
	Addr string
	Key  []byte
	Name string
}

var connectByName = procs.Register("manager.test.connect", func(j connectJob) (string, error) {
	m, err := Connect(j.Addr, j.Key)
	if errors.Is(err, ErrAuth) {
		return "ErrAuth", nil
	}
	if err != nil {
		return "", err
	}
	defer m.Close()
	q, err := NewQueue[string](m, 0, Named(j.Name))
	if err != nil {
		return "", err
	}
	return q.Get()
})

// noChildren checks at the test's end that no child is left running.
func noChildren(t *testing.T) {
	t.Cleanup(func() {
		for _, p := range procs.ActiveChildren() {
			t.Errorf("child %s (pid %d) left running", p.Name(), p.Pid())
			_ = p.Kill()
		}
	})
}

var transports = []struct{ name, address string }{
	{"unix", ""},
	{"tcp", "tcp://127.0.0.1:0"},
}

func TestChildrenShareADictThroughProxyArguments(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			noChildren(t)
			ts := startServer(t, tr.address, Options{})
			m := ts.connect(t)
			d, err := NewDict[string, int](m)
			require.NoError(t, err)
			var ps []*procs.Process
			for i := range 2 {
				p, err := procs.Start(fillDict, fillJob{D: d, From: i * 100, N: 50})
				require.NoError(t, err)
				ps = append(ps, p)
			}
			for _, p := range ps {
				n, err := procs.Result[int](waitFor(t, p))
				require.NoError(t, err)
				assert.Equal(t, 50, n)
			}
			n, err := d.Len()
			require.NoError(t, err)
			assert.Equal(t, 100, n)
			eventually(t, "the children's connections to close", func() bool { return ts.Stats().Conns == 1 })
			assert.Equal(t, Stats{Objects: 1, Conns: 1}, ts.Stats())
		})
	}
}

func waitFor(t *testing.T, p *procs.Process) *procs.Process {
	t.Helper()
	require.NoError(t, p.JoinTimeout(60e9))
	return p
}

func TestWorkersDrainAQueueAcrossProcesses(t *testing.T) {
	noChildren(t)
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	in, err := NewQueue[int](m, 4) // bounded: producers wait for the workers
	require.NoError(t, err)
	out, err := NewQueue[int](m, 0)
	require.NoError(t, err)
	var ps []*procs.Process
	for range 2 {
		p, err := procs.Start(squareWorker, squareJob{In: in, Out: out})
		require.NoError(t, err)
		ps = append(ps, p)
	}
	want := 0
	for i := range 30 {
		require.NoError(t, in.Put(i))
		want += i * i
	}
	for range ps {
		require.NoError(t, in.Put(-1))
	}
	got, done := 0, 0
	for range 30 {
		v, err := out.GetTimeout(60e9)
		require.NoError(t, err)
		got += v
	}
	for _, p := range ps {
		n, err := procs.Result[int](waitFor(t, p))
		require.NoError(t, err)
		done += n
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 30, done)
}

func TestKilledClientMidCallCostsOneConnection(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			noChildren(t)
			ts := startServer(t, tr.address, Options{})
			m := ts.connect(t)
			q, err := NewQueue[int](m, 0)
			require.NoError(t, err)
			ready, err := NewEvent(m)
			require.NoError(t, err)
			p, err := procs.Start(hang, hangJob{Q: q, Ready: ready})
			require.NoError(t, err)
			require.NoError(t, ready.WaitTimeout(60e9))
			srvCalls(t, ts, 1) // its Get is parked in the server
			require.NoError(t, p.Kill())
			err = p.JoinTimeout(60e9)
			var ee *procs.ExitError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, -9, ee.Code)

			// Once the server has seen the connection go, the dead Get
			// can take nothing: the item goes to a live client.
			eventually(t, "the server to drop the dead client", func() bool { return ts.Stats().Conns == 1 })
			require.NoError(t, q.Put(42))
			v, err := q.TryGet()
			require.NoError(t, err)
			assert.Equal(t, 42, v)
			stillServes(t, ts)
		})
	}
}

// srvCalls waits until the server has at least n calls in flight.
func srvCalls(t *testing.T, ts *testServer, n int) {
	t.Helper()
	eventually(t, "calls in flight on the server", func() bool {
		ts.mu.Lock()
		conns := make([]*serverConn, 0, len(ts.conns))
		for c := range ts.conns {
			conns = append(conns, c)
		}
		ts.mu.Unlock()
		total := 0
		for _, c := range conns {
			c.mu.Lock()
			total += len(c.calls)
			c.mu.Unlock()
		}
		return total >= n
	})
}

func TestLockOfAKilledChildPassesWithErrOwnerDead(t *testing.T) {
	noChildren(t)
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	l, err := NewMutex(m)
	require.NoError(t, err)
	ready, err := NewEvent(m)
	require.NoError(t, err)
	p, err := procs.Start(hang, hangJob{L: l, Ready: ready})
	require.NoError(t, err)
	require.NoError(t, ready.WaitTimeout(60e9))
	assert.ErrorIs(t, l.TryLock(), ErrWouldBlock)
	errc := make(chan error, 1)
	go func() { errc <- l.Lock() }()
	require.NoError(t, p.Kill())
	_ = p.JoinTimeout(60e9)
	err = <-errc
	assert.ErrorIs(t, err, ErrOwnerDead)
	require.NoError(t, l.Unlock())
}

func TestUnrelatedProgramConnectsByAddressKeyAndName(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			noChildren(t)
			ts := startServer(t, tr.address, Options{})
			p, err := procs.Start(connectByName, connectJob{Addr: ts.addr, Key: ts.key, Name: "inbox"})
			require.NoError(t, err)
			m := ts.connect(t)
			q, err := NewQueue[string](m, 0, Named("inbox"))
			require.NoError(t, err)
			require.NoError(t, q.Put("hello from the parent"))
			got, err := procs.Result[string](waitFor(t, p))
			require.NoError(t, err)
			assert.Equal(t, "hello from the parent", got)

			p, err = procs.Start(connectByName, connectJob{Addr: ts.addr, Key: []byte("wrong"), Name: "inbox"})
			require.NoError(t, err)
			got, err = procs.Result[string](waitFor(t, p))
			require.NoError(t, err)
			assert.Equal(t, "ErrAuth", got)
			stillServes(t, ts)
		})
	}
}

func TestStartServesFromAChildProcess(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			noChildren(t)
			m, err := Start(Options{Address: tr.address})
			require.NoError(t, err)
			require.NotNil(t, m.Process())
			assert.Equal(t, m.Process().Pid(), m.ServerPid())
			assert.NotEqual(t, os.Getpid(), m.ServerPid())
			if tr.name == "tcp" {
				assert.True(t, strings.HasPrefix(m.Address(), "tcp://127.0.0.1:"), m.Address())
			} else {
				assert.True(t, strings.HasPrefix(m.Address(), "unix:@multiproc-manager-"), m.Address())
			}
			d, err := NewDict[string, int](m)
			require.NoError(t, err)
			p, err := procs.Start(fillDict, fillJob{D: d, N: 10})
			require.NoError(t, err)
			_, err = procs.Result[int](waitFor(t, p))
			require.NoError(t, err)
			n, err := d.Len()
			require.NoError(t, err)
			assert.Equal(t, 10, n)

			// A second client by address and the generated key.
			m2, err := Connect(m.Address(), m.Authkey())
			require.NoError(t, err)
			require.NoError(t, m2.Close())

			require.NoError(t, m.Close(), "the child server exits 0")
			code, ended := m.Process().ExitCode()
			assert.True(t, ended)
			assert.Zero(t, code)
			assert.ErrorIs(t, d.Set("x", 1), ErrClosed)
		})
	}
}

func TestStartReportsAServerThatCannotListen(t *testing.T) {
	noChildren(t)
	_, err := Start(Options{Address: "/nonexistent-dir/manager.sock"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such file or directory")
}

func TestCallInFlightOnAKilledServerReturnsErrClosed(t *testing.T) {
	noChildren(t)
	m, err := Start(Options{})
	require.NoError(t, err)
	q, err := NewQueue[int](m, 0)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			_, err := q.Get()
			errs <- err
		})
	}
	srvWaiting(t, m, 3)
	require.NoError(t, m.Process().Kill())
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, ErrClosed)
	}
	assert.ErrorIs(t, q.Put(1), ErrClosed)
	var ee *procs.ExitError
	assert.ErrorAs(t, m.Close(), &ee, "Close reports how the server ended")
}

func TestShutdownAnswersCallsInFlightWithErrShutdown(t *testing.T) {
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	q, err := NewQueue[int](m, 0)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		_, err := q.Get()
		errc <- err
	}()
	srvCalls(t, ts, 1)
	require.NoError(t, ts.connect(t).Shutdown(), "any authenticated client may stop the server")
	assert.ErrorIs(t, <-errc, ErrShutdown)
	ts.Shutdown() // waits for the shutdown the client started
	assert.ErrorIs(t, q.Put(1), ErrClosed)
}

func TestShutdownOfAStartedManagerEndsItsProcess(t *testing.T) {
	noChildren(t)
	m, err := Start(Options{})
	require.NoError(t, err)
	require.NoError(t, m.Shutdown())
	code, ended := m.Process().ExitCode()
	assert.True(t, ended)
	assert.Zero(t, code)
	assert.NoError(t, m.Close(), "Close after Shutdown returns the same result")
}
