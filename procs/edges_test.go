package procs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
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
