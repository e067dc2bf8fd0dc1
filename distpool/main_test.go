package distpool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// srv is the embedded server every test talks to, started by TestMain
// (children, which re-execute this binary, never start one).
var srv *distpool.Server

func TestMain(m *testing.M) {
	procs.Main()
	var err error
	srv, err = distpool.StartServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "embedded server:", err)
		os.Exit(1)
	}
	code := testutil.Run(m)
	srv.Shutdown()
	os.Exit(code)
}

// Functions the tests run on hosts.
var (
	square = procs.Register("dp-square", func(x int) (int, error) { return x * x, nil })
	fails  = procs.Register("dp-fails", func(x int) (int, error) {
		if x%3 == 1 {
			return 0, fmt.Errorf("item %d refused", x)
		}
		return x, nil
	})
	panics = procs.Register("dp-panics", func(msg string) (int, error) { panic(msg) })
	exits  = procs.Register("dp-exits", func(x int) (int, error) {
		if x == 3 {
			os.Exit(7)
		}
		return x + 1, nil
	})
	words = procs.Register("dp-words", func(s string) ([]string, error) { return []string{s, s + s}, nil })
	add   = procs.Register2("dp-add", func(a, b int) (int, error) { return a + b, nil })
	// block marks that it started (a file in dir named for its pid) and
	// blocks until its host is killed.
	block = procs.Register("dp-block", func(dir string) (int, error) {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(os.Getpid())), nil, 0o600); err != nil {
			return 0, err
		}
		testutil.BlockForever()
		return 0, nil
	})
	// record appends a line to a file: how many times a task ran.
	record = procs.Register("dp-record", func(path string) (int, error) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		_, err = f.WriteString("ran\n")
		return 0, err
	})
	sleep = procs.Register("dp-sleep", func(d time.Duration) (int, error) {
		time.Sleep(d) // the task's work: it outlasts AckWait
		return 1, nil
	})
)

// hostArg tells a host child where to connect and what to serve.
type hostArg struct {
	URL, Token, Queue, Name, Build string
	Slots                          int
	DieAfterAnswer                 bool // SIGKILL itself between a result and its ack
}

// hostMain is a worker host: Serve until SIGTERM (or SIGKILL).
var hostMain = procs.Register("dp-host", func(a hostArg) (int, error) {
	nc, err := distpool.Connect(a.URL, distpool.WithConnToken(a.Token))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	distpool.SetDieAfterAnswer(a.DieAfterAnswer)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	opts := []distpool.ServeOption{distpool.ServeQueue(a.Queue), distpool.ServeSlots(a.Slots), distpool.ServeName(a.Name)}
	if a.Build != "" {
		opts = append(opts, distpool.ServeBuildID(a.Build))
	}
	return 0, distpool.Serve(ctx, nc, opts...)
})

// startHost starts a host child serving queue, killed when the test ends.
func startHost(t testing.TB, queue, name string, slots int) *procs.Process {
	t.Helper()
	return testutil.Start(t, hostMain, hostArg{URL: srv.URL(), Token: srv.Token(), Queue: queue, Name: name, Slots: slots})
}

// connect opens a connection to srv, closed when the test ends.
func connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// connectInProcess opens an in-process connection to srv (no TCP),
// closed when the test ends.
func connectInProcess(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := srv.ConnectInProcess()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// newPool starts a pool on its own queue, terminated when the test ends.
func newPool(t testing.TB, queue string, opts ...distpool.Option) *distpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	p, err := distpool.NewPool(ctx, connect(t), append([]distpool.Option{distpool.WithQueue(queue)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Terminate() })
	return p
}

// waitSize waits until the pool sees n slots on live hosts: the hosts
// are up and fetching.
func waitSize(t testing.TB, p *distpool.Pool, n int) {
	t.Helper()
	testutil.WaitUntil(t, func() bool { return p.Size() == n }, "pool size %d", n)
}

func errorIs(t *testing.T, err, target error) {
	t.Helper()
	require.Error(t, err)
	require.True(t, errors.Is(err, target), "error %v is not %v", err, target)
}
