package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/multiproc-go/multiproc/cmd/shmctl/internal/report"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The built command works as a separate process: it finds a segment this
// process holds, names us as holder, and exits with the documented codes.
func TestBuiltBinaryInspectsALiveSegment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	bin := filepath.Join(t.TempDir(), "shmctl")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	name := testutil.Name(t, "exec")
	seg, err := shm.Create(name, 4096)
	require.NoError(t, err)
	defer seg.Detach()
	mu, err := semaphore.NewMutex(seg, "lock")
	require.NoError(t, err)
	require.NoError(t, mu.Lock())

	out, err = exec.Command(bin, "inspect", "--json", name).Output()
	require.NoError(t, err)
	var s report.Segment
	require.NoError(t, json.Unmarshal(out, &s))
	require.Len(t, s.Objects, 1)
	assert.Equal(t, "mutex", s.Objects[0].Kind)
	b, err := json.Marshal(s.Objects[0].Detail)
	require.NoError(t, err)
	var l report.Lock
	require.NoError(t, json.Unmarshal(b, &l))
	require.NotNil(t, l.Holder)
	assert.Equal(t, seg.Self(), l.Holder.ID)
	assert.True(t, l.Holder.Alive)

	out, err = exec.Command(bin, "ls", testutil.Pattern(t)).Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), name)
	assert.Contains(t, string(out), "live")

	err = exec.Command(bin, "rm", name).Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "rm of a segment in use must fail")
	assert.Equal(t, exitFail, ee.ExitCode())
	assert.True(t, exists(name))
	err = exec.Command(bin).Run()
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, exitUsage, ee.ExitCode())
}
