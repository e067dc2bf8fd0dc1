package procs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	envBareExit = "PROCS_TEST_BARE_EXIT"
	// envSkipMain makes a child forget procs.Main, as a program missing it
	// would, and call Start: TestStartInAChildWithoutMainExitsNamingTheFix.
	envSkipMain = "PROCS_TEST_SKIP_MAIN"
)

func TestMain(m *testing.M) {
	if os.Getenv(envSkipMain) != "" {
		_, err := procs.Start(noop, struct{}{})
		fmt.Fprintln(os.Stderr, "Start returned in a child without Main:", err)
		os.Exit(0) // the parent's test fails on this code
	}
	procs.Main()
	if os.Getenv(envBareExit) != "" {
		os.Exit(0) // the os/exec baseline of BenchmarkStartJoin
	}
	os.Exit(testutil.Run(m))
}

var (
	square = procs.Register("square", func(x int) (int, error) { return x * x, nil })
	fail   = procs.Register("fail", func(msg string) (int, error) { return 0, errors.New(msg) })
	panics = procs.Register("panics", func(msg string) (int, error) { panic(msg) })
	exits  = procs.Register("exits", func(code int) (int, error) { os.Exit(code); return 0, nil })
	whoami = procs.Register("whoami", func(struct{}) (procs.Info, error) { return procs.Current(), nil })
	noop   = procs.Register("noop", func(struct{}) (struct{}, error) { return struct{}{}, nil })

	// writeSegment writes a message into the first object of a segment it
	// was handed, and reads back what the parent wrote there.
	writeSegment = procs.Register("write-segment", func(s *shm.Segment) (string, error) {
		obj, err := s.Lookup("mailbox")
		if err != nil {
			return "", err
		}
		got := string(bytes.TrimRight(obj.Bytes()[:32], "\x00"))
		copy(obj.Bytes()[32:], "from child")
		return got, nil
	})

	// blockAfterReady stores 1 into the segment's "ready" word, then blocks
	// until killed. Tests wait on the word, not on time.
	blockAfterReady = procs.Register("block-after-ready", func(s *shm.Segment) (int, error) {
		obj, err := s.Lookup("ready")
		if err != nil {
			return 0, err
		}
		atomic.StoreUint32(obj.Uint32(0), 1)
		testutil.BlockForever()
		return 0, nil
	})

	// startDaemonAndBlock starts a daemon grandchild, publishes its pid,
	// then blocks until killed.
	startDaemonAndBlock = procs.Register("start-daemon", func(s *shm.Segment) (int, error) {
		obj, err := s.Lookup("ready")
		if err != nil {
			return 0, err
		}
		g, err := procs.Start(blockForever, struct{}{}, procs.WithDaemon(true))
		if err != nil {
			return 0, err
		}
		atomic.StoreUint32(obj.Uint32(4), uint32(g.Pid()))
		atomic.StoreUint32(obj.Uint32(0), 1)
		testutil.BlockForever()
		return 0, nil
	})
	blockForever = procs.Register("block-forever", func(struct{}) (int, error) {
		testutil.BlockForever()
		return 0, nil
	})
)

func TestRunReturnsTheResult(t *testing.T) {
	n, err := procs.Run(square, 7)
	require.NoError(t, err)
	assert.Equal(t, 49, n)
}

func TestJoinReportsExitCodes(t *testing.T) {
	p, err := procs.Start(fail, "no luck", procs.WithName("failing"))
	require.NoError(t, err)
	err = p.Join()
	var ee *procs.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.Code)
	assert.Equal(t, "no luck", ee.Message)
	assert.Contains(t, err.Error(), `"failing"`)
	code, ok := p.ExitCode()
	assert.True(t, ok)
	assert.Equal(t, 1, code)

	p, err = procs.Start(exits, 3)
	require.NoError(t, err)
	require.ErrorAs(t, p.Join(), &ee)
	assert.Equal(t, 3, ee.Code)
	assert.False(t, ee.Panicked)
}

func TestPanicExitsOneWithTheStackOnStderr(t *testing.T) {
	var stderr bytes.Buffer
	p, err := procs.Start(panics, "kaboom", procs.WithStderr(&stderr))
	require.NoError(t, err)
	err = p.Join()
	var ee *procs.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.Code)
	assert.True(t, ee.Panicked)
	assert.Contains(t, err.Error(), "panicked: kaboom")
	assert.Contains(t, stderr.String(), "panic: kaboom")
	assert.Contains(t, stderr.String(), "goroutine")
	assert.ErrorAs(t, p.Result(new(int)), &ee)
}

func TestChildKnowsItsNameAndParent(t *testing.T) {
	info, err := procs.Run(whoami, struct{}{}, procs.WithName("worker-7"))
	require.NoError(t, err)
	assert.Equal(t, "worker-7", info.Name)
	assert.Equal(t, os.Getpid(), info.PPid)
	assert.True(t, info.Child)
	assert.NotEqual(t, os.Getpid(), info.Pid)
	assert.Equal(t, "MainProcess", procs.Current().Name)
}

func TestAnonymousSegmentCrossesAsInheritedDescriptor(t *testing.T) {
	s, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer s.Detach()
	obj, err := s.Create(shm.Spec{Name: "mailbox", Kind: shm.KindBytes, Size: 64}, func(b []byte) error {
		copy(b, "from parent")
		return nil
	})
	require.NoError(t, err)
	got, err := procs.Run(writeSegment, s)
	require.NoError(t, err)
	assert.Equal(t, "from parent", got)
	assert.Equal(t, "from child", string(bytes.TrimRight(obj.Bytes()[32:], "\x00")))
}

func TestNamedSegmentCrosses(t *testing.T) {
	name := testutil.Name(t)
	s, err := shm.Create(name, 4096)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Detach(); _ = shm.Unlink(name) })
	_, err = s.Create(shm.Spec{Name: "mailbox", Kind: shm.KindBytes, Size: 64}, nil)
	require.NoError(t, err)
	_, err = procs.Run(writeSegment, s)
	require.NoError(t, err)
}

func TestKilledChildReportsMinusNine(t *testing.T) {
	s, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer s.Detach()
	ready, err := s.Create(shm.Spec{Name: "ready", Kind: shm.KindBytes, Size: 8}, nil)
	require.NoError(t, err)
	p, err := procs.Start(blockAfterReady, s)
	require.NoError(t, err)
	testutil.WaitWord(t, ready.Uint32(0), p)
	assert.True(t, p.IsAlive())
	assert.Contains(t, pids(procs.ActiveChildren()), p.Pid())
	require.NoError(t, p.Kill())
	var ee *procs.ExitError
	require.ErrorAs(t, p.Join(), &ee)
	assert.Equal(t, -9, ee.Code)
	assert.False(t, p.IsAlive())
	assert.NotContains(t, pids(procs.ActiveChildren()), p.Pid())
	assert.NoError(t, p.Kill(), "killing an ended child is not an error")
	assertNotZombie(t, p.Pid())
}

func TestTerminateSendsSIGTERM(t *testing.T) {
	p, err := procs.Start(blockForever, struct{}{})
	require.NoError(t, err)
	require.NoError(t, p.Terminate())
	err = p.Join()
	var ee *procs.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, -15, ee.Code)
}

func TestJoinTimeoutAndContextReturnWhileTheChildRuns(t *testing.T) {
	p, err := procs.Start(blockForever, struct{}{})
	require.NoError(t, err)
	defer func() { _ = p.Kill(); _ = p.Join() }()
	assert.ErrorIs(t, p.JoinTimeout(10*time.Millisecond), procs.ErrTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.JoinContext(ctx), context.Canceled)
	assert.ErrorIs(t, p.Result(new(int)), procs.ErrRunning)
	_, running := p.ExitCode()
	assert.False(t, running)
}

func TestRunContextKillsTheChildWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	_, err := procs.RunContext(ctx, blockForever, struct{}{})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, procs.ActiveChildren())
}

func TestUnknownFunctionIsAnError(t *testing.T) {
	// A Func that was never registered in the child's binary: forge one
	// through a registration under a name the child lacks is impossible, so
	// check the registry's guard instead.
	assert.Panics(t, func() { procs.Register("square", func(int) (int, error) { return 0, nil }) })
	assert.Panics(t, func() { procs.Register[int, int]("", nil) })
}

func TestNoDescriptorLeaksIntoTheChild(t *testing.T) {
	f, err := os.Open(filepath.Join(t.TempDir()))
	require.NoError(t, err)
	defer f.Close()
	fds, err := procs.Run(listFds, struct{}{})
	require.NoError(t, err)
	// stdin, stdout, stderr, plus what the Go runtime opens for itself
	// (the report pipe is close-on-exec by then but still open).
	for _, fd := range fds {
		assert.NotEqual(t, int(f.Fd()), fd, "an unrelated descriptor crossed")
	}
}

var listFds = procs.Register("list-fds", func(struct{}) ([]int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		var fd int
		fmt.Sscan(e.Name(), &fd)
		out = append(out, fd)
	}
	return out, nil
})

func pids(ps []*procs.Process) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.Pid())
	}
	return out
}

func assertNotZombie(t *testing.T, pid int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return // gone: reaped
	}
	assert.NotContains(t, string(b), ") Z ", "child %d left a zombie", pid)
}

func BenchmarkStartJoin(b *testing.B) {
	b.Run("procs", func(b *testing.B) {
		for b.Loop() {
			p, err := procs.Start(noop, struct{}{})
			if err != nil {
				b.Fatal(err)
			}
			if err := p.Join(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("os-exec", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command("/proc/self/exe")
			cmd.Env = append(os.Environ(), envBareExit+"=1")
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
