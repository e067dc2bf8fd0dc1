//go:build linux

package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The program is built and run as a user would run it: the daemon's death
// with its parent can only be seen from outside.
func TestBasicsRunsEndToEndAndItsDaemonDiesWithIt(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "basics")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err = exec.CommandContext(ctx, bin).Output()
	require.NoError(t, err, "%s", out)
	s := string(out)
	t.Log(s)

	assert.Regexp(t, `started Process-1, pid \d+, alive: true`, s)
	assert.Contains(t, s, "square(7) = 49, exit code 0, alive: false")
	assert.Contains(t, s, `child calls itself "worker-a"; its parent is us: true; we are "MainProcess"`)
	assert.Regexp(t, `returns an error: +exit code 1, panicked: false, message: "out of coffee"`, s)
	assert.Regexp(t, `calls os.Exit\(3\): +exit code 3, panicked: false, message: ""`, s)
	assert.Regexp(t, `panics: +exit code 1, panicked: true, message: "oops"`, s)
	assert.Contains(t, s, "sleeper alive: true")
	assert.Regexp(t, `after Terminate: alive: false, exit code -15 \(.*terminated.*\)`, s)

	m := regexp.MustCompile(`daemon pid (\d+), daemon: true, alive: true`).FindStringSubmatch(s)
	require.NotNil(t, m, "no daemon line")
	pid, _ := strconv.Atoi(m[1])
	assertEnds(t, pid)
}

// assertEnds waits (a generous safety net) for pid to end, through a pidfd:
// no polling of /proc, no sleeps.
func assertEnds(t *testing.T, pid int) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err == unix.ESRCH {
		return // already gone
	}
	require.NoError(t, err)
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := unix.Poll(fds, int(time.Until(deadline).Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		require.NoError(t, err)
		if n == 0 {
			_ = unix.Kill(pid, unix.SIGKILL)
			t.Fatalf("daemon %d outlived its parent", pid)
		}
		return
	}
}
