package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/multiproc-go/multiproc/cmd/shmctl/internal/report"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLsAndGcAcceptPathsAsInspectDoes(t *testing.T) {
	name := testutil.Name(t)
	seg, err := shm.Create(name, 4096)
	require.NoError(t, err)
	defer seg.Detach()
	defer shm.Unlink(name)

	var segs []report.Segment
	require.Equal(t, exitOK, shmctlJSON(t, &segs, "ls", filepath.Join(shm.Dir, name)))
	require.Len(t, segs, 1)
	assert.Equal(t, name, segs[0].Name)
	var outs []outcome
	require.Equal(t, exitOK, shmctlJSON(t, &outs, "gc", "-n", filepath.Join(shm.Dir, name)))
	require.Len(t, outs, 1)
	assert.Equal(t, actionKept, outs[0].Action, "its creator, this test, lives")

	code, out, errOut := shmctl(t, "ls", "/tmp/"+name)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out, "no empty table for a path outside /dev/shm")
	assert.Contains(t, errOut, "not in /dev/shm")
}

func TestHelpCommandShowsThatCommandsFlags(t *testing.T) {
	code, out, _ := shmctl(t, "help", "gc")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "Usage: shmctl gc")
	assert.Contains(t, out, "-older-than")
	assert.NotContains(t, out, "shmctl inspect", "only gc's usage")
	code, _, errOut := shmctl(t, "help", "frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
}

func TestBadDurationNamesTheExpectedForm(t *testing.T) {
	code, _, errOut := shmctl(t, "gc", "--older-than", "5")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "want a duration with a unit, such as 90s, 30m, 2h")
	assert.NotContains(t, errOut, "parse error")
}

func TestUnknownFlagPrintsAShortError(t *testing.T) {
	for _, cmd := range []string{"ls", "inspect", "rm", "gc"} {
		code, out, errOut := shmctl(t, cmd, "--bogus")
		assert.Equal(t, exitUsage, code, cmd)
		assert.Empty(t, out, cmd)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		assert.LessOrEqual(t, len(lines), 2, "%s: %q", cmd, errOut)
		assert.Contains(t, errOut, "-bogus", cmd)
		assert.Contains(t, errOut, "usage: shmctl "+cmd, cmd)
	}
}
