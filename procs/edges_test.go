package procs_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listFds returns what each of the child's descriptors refers to.
var fdTargets = procs.Register("fd-targets", func(struct{}) (map[int]string, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	for _, e := range ents {
		fd, _ := strconv.Atoi(e.Name())
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			out[fd] = target
		}
	}
	return out, nil
})

func TestStartInAChildWithoutMainExitsNamingTheFix(t *testing.T) {
	var stderr bytes.Buffer
	p, err := procs.Start(noop, struct{}{}, procs.WithEnv(envSkipMain+"=1"), procs.WithStderr(&stderr))
	require.NoError(t, err)
	err = p.JoinTimeout(time.Minute)
	var ee *procs.ExitError
	require.ErrorAs(t, err, &ee, "stderr: %s", stderr.String())
	assert.Equal(t, 2, ee.Code, "stderr: %s", stderr.String())
	assert.ErrorIs(t, err, procs.ErrNoMain)
	assert.Contains(t, err.Error(), "procs.Main()")
	assert.Contains(t, stderr.String(), "make procs.Main() the first statement of main")
	assert.NotContains(t, stderr.String(), "Start returned")
}

func TestUnstartedProcessFailsAtOnce(t *testing.T) {
	for name, p := range map[string]*procs.Process{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			assert.False(t, p.IsAlive())
			assert.ErrorIs(t, p.Join(), procs.ErrNotStarted)
			// An hour: a JoinTimeout that waited it out would hang the test.
			assert.ErrorIs(t, p.JoinTimeout(time.Hour), procs.ErrNotStarted)
			assert.ErrorIs(t, p.JoinContext(t.Context()), procs.ErrNotStarted)
			_, err := procs.Result[int](p)
			assert.ErrorIs(t, err, procs.ErrNotStarted)
			assert.ErrorIs(t, p.Result(new(int)), procs.ErrNotStarted)
			assert.ErrorIs(t, p.Kill(), procs.ErrNotStarted)
			_, ok := p.ExitCode()
			assert.False(t, ok)
			<-p.Done() // closed: nothing to wait for
			assert.Zero(t, p.Pid())
		})
	}
}

func TestChildGetsOnlyTheNamedDescriptors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leaky")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	// No O_CLOEXEC: exec keeps this descriptor in every child.
	fd, err := syscall.Open(path, syscall.O_RDONLY, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	require.NoError(t, err)
	require.Equal(t, path, target)

	fds, err := procs.Run(fdTargets, struct{}{})
	require.NoError(t, err)
	for n, tg := range fds {
		assert.NotEqual(t, path, tg, "descriptor %d leaked into the child", n)
	}
	for _, n := range []int{0, 1, 2} {
		assert.Contains(t, fds, n, "standard descriptors stay")
	}
}

var (
	// bumpValue adds one to a shared counter: a pool task carrying a Value.
	bumpValue = procs.Register("bump-value", func(v *value.Value[int64]) (int64, error) { return v.Add(1), nil })

	// useNamedSegment does in a child what a named segment allows: open it
	// by name, hand a Value in it to a pool worker (which opens it by name),
	// and unlink it.
	useNamedSegment = procs.Register("use-named-segment", func(s *shm.Segment) (string, error) {
		again, err := shm.Open(s.Name())
		if err != nil {
			return "", err
		}
		_ = again.Detach()
		v, err := value.Open[int64](s, "counter")
		if err != nil {
			return "", err
		}
		pool, err := procs.NewPool(1)
		if err != nil {
			return "", err
		}
		defer pool.Terminate()
		if _, err := procs.Apply(pool, bumpValue, v); err != nil {
			return "", err
		}
		return s.Name(), s.Unlink()
	})
)

func TestNamedSegmentKeepsItsNameInTheChild(t *testing.T) {
	name := testutil.Name(t)
	s, err := shm.Create(name, 4096)
	require.NoError(t, err)
	defer s.Detach()
	defer shm.Unlink(name) // in case the child did not
	v, err := value.New[int64](s, "counter", 41)
	require.NoError(t, err)

	got, err := procs.Run(useNamedSegment, s)
	require.NoError(t, err)
	assert.Equal(t, name, got)
	assert.EqualValues(t, 42, v.Load(), "the pool worker added one")
	_, err = os.Stat(filepath.Join(shm.Dir, name))
	assert.ErrorIs(t, err, fs.ErrNotExist, "the child unlinked it")
}

// childEnvironment reports the protocol's variables a child still sees,
// and who it is.
var childEnvironment = procs.Register("child-environment", func(struct{}) ([]string, error) {
	var left []string
	for _, kv := range os.Environ() {
		for _, k := range []string{"MULTIPROC_FUNC", "MULTIPROC_NAME", "MULTIPROC_PARENT", "MULTIPROC_SEGMENTS"} {
			if strings.HasPrefix(kv, k+"=") {
				left = append(left, kv)
			}
		}
	}
	return append(left, procs.Current().Name), nil
})

// A program the child runs with os/exec must not take itself for a child
// of ours: the child's environment loses the protocol's variables once
// Main has read them (Current keeps what they said).
func TestChildEnvironmentLosesTheProtocolsVariables(t *testing.T) {
	got, err := procs.Run(childEnvironment, struct{}{}, procs.WithName("env-child"))
	require.NoError(t, err)
	assert.Equal(t, []string{"env-child"}, got)
}
