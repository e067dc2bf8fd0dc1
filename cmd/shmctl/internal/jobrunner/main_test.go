package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/cmd/shmctl/internal/report"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's session, checked: the program leaves a lock held by a dead
// worker and a consumer asleep; killed, it leaves a segment gc may collect.
func TestJobRunnerLeavesWhatTheReadmeShows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	bin := filepath.Join(t.TempDir(), "jobrunner")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	name := fmt.Sprintf("shmctl-jobrunner-test-%d", os.Getpid())
	t.Cleanup(func() { _ = os.Remove(filepath.Join(shm.Dir, name)) })
	cmd := exec.Command(bin, name)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n') // printed once the worker is killed
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(line, "killed holding results-lock\n"), line)

	s, err := report.Load(name, report.Options{Objects: true})
	require.NoError(t, err)
	assert.Equal(t, 7, s.ObjectCount)
	assert.True(t, s.Creator.Alive)
	for _, o := range s.Objects {
		if o.Name == "results-lock" {
			l := o.Detail.(*report.Lock)
			require.True(t, l.Locked)
			assert.False(t, l.Holder.Alive, "the updater was killed holding it")
		}
	}

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	// The daemon replier dies with its parent, shortly after it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err = report.Load(name, report.Options{})
		require.NoError(t, err)
		if ok, _ := report.Collectable(&s, 0, time.Now()); ok {
			break
		}
		require.True(t, time.Now().Before(deadline), "segment still in use: %+v", s.Participants)
		time.Sleep(10 * time.Millisecond)
	}
	assert.GreaterOrEqual(t, len(s.Participants), 2, "the program and its killed worker (the replier may not have attached yet)")
}
