package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/multiproc-go/multiproc/cmd/shmctl/internal/report"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func object(t *testing.T, s report.Segment, name string) report.Object {
	t.Helper()
	for _, o := range s.Objects {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("no object %q in %s", name, s.Name)
	return report.Object{}
}

// detail decodes an object's JSON detail into the kind's type.
func detail[T any](t *testing.T, o report.Object) T {
	t.Helper()
	require.Empty(t, o.Error, "object %s", o.Name)
	b, err := json.Marshal(o.Detail)
	require.NoError(t, err)
	var v T
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

func inspectJSON(t *testing.T, name string) report.Segment {
	t.Helper()
	var s report.Segment
	require.Equal(t, exitOK, shmctlJSON(t, &s, "inspect", name))
	return s
}

// The scenario: a program dies holding a lock, with a consumer
// blocked on its queue. inspect names the holder and shows it dead; gc
// --dry-run removes nothing; gc removes the segment.
func TestKilledHolderShowsDeadAndGcRemovesTheSegment(t *testing.T) {
	name := testutil.Name(t, "crashed")
	holder := start(t, populate, populateArgs{Name: name, Ready: control(t)})
	consumer := start(t, consume, populateArgs{Name: name, Ready: control(t)})

	// The consumer has opened the queue; wait until it is counted asleep
	// (polling a state, not guessing a delay).
	var s report.Segment
	testutil.WaitUntil(t, func() bool {
		s = inspectJSON(t, name)
		return detail[report.Queue](t, object(t, s, "empty")).ConsumersWaiting == 1
	}, "consumer never slept on the queue")
	assert.Equal(t, report.StatusSegment, s.Status)
	assert.Equal(t, &report.Process{Pid: holder.Pid(), Alive: true}, s.Creator)
	assert.ElementsMatch(t, []int{holder.Pid(), consumer.Pid()}, pids(s.Participants))
	lock := detail[report.Lock](t, object(t, s, "lock"))
	require.True(t, lock.Locked)
	assert.Equal(t, holder.Pid(), lock.Holder.Pid)
	assert.True(t, lock.Holder.Alive)
	assert.True(t, lock.Consistent)
	assert.Contains(t, object(t, s, "lock").Summary, "locked by pid "+strconv.Itoa(holder.Pid())+" (alive)")

	kill(t, holder, consumer)

	s = inspectJSON(t, name)
	assert.Equal(t, &report.Process{Pid: holder.Pid(), Alive: false}, s.Creator)
	for _, p := range s.Participants {
		assert.False(t, p.Alive, "participant %d", p.Pid)
	}
	lock = detail[report.Lock](t, object(t, s, "lock"))
	assert.Equal(t, holder.Pid(), lock.Holder.Pid)
	assert.False(t, lock.Holder.Alive, "the holder was killed")
	assert.Contains(t, object(t, s, "lock").Summary, "(dead)")
	q := detail[report.Queue](t, object(t, s, "empty"))
	assert.Equal(t, "spsc", q.Mode)
	require.NotNil(t, q.Consumer, "the killed consumer still holds the role")
	assert.Equal(t, consumer.Pid(), q.Consumer.Pid)
	assert.False(t, q.Consumer.Alive)

	code, out, _ := shmctl(t, "ls", testutil.Pattern(t))
	assert.Equal(t, exitOK, code)
	assert.Regexp(t, `(?m)^`+name+`\s.*\sdead\s+`+strconv.Itoa(holder.Pid())+` \(dead\)\s+13\s`, out)

	code, out, _ = shmctl(t, "gc", "--dry-run", testutil.Pattern(t))
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "would remove")
	assert.True(t, exists(name), "--dry-run removes nothing")

	var outs []outcome
	require.Equal(t, exitOK, shmctlJSON(t, &outs, "gc", testutil.Pattern(t)))
	require.Len(t, outs, 1)
	assert.Equal(t, outcome{Name: name, Action: actionRemoved, Reason: "creator pid " + strconv.Itoa(holder.Pid()) + " dead, 2 participant(s) dead"}, outs[0])
	assert.False(t, exists(name))
}

func pids(ps []report.Participant) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.Pid)
	}
	return out
}

// Every kind of object is described with its state.
func TestInspectDescribesEveryKind(t *testing.T) {
	name := testutil.Name(t, "kinds")
	p := start(t, populate, populateArgs{Name: name, Ready: control(t)})
	s := inspectJSON(t, name)
	assert.Equal(t, 13, s.ObjectCount)
	for _, o := range s.Objects {
		assert.Empty(t, o.Error, "object %s", o.Name)
		assert.NotEmpty(t, o.Summary, "object %s", o.Name)
	}

	rl := detail[report.RLock](t, object(t, s, "rlock"))
	assert.True(t, rl.Locked)
	assert.EqualValues(t, 2, rl.Depth)
	assert.Equal(t, p.Pid(), rl.Holder.Pid)
	cond := detail[report.Condition](t, object(t, s, "cond"))
	assert.True(t, cond.Lock.Locked, "the condition's lock is the rlock")
	sem := detail[report.Semaphore](t, object(t, s, "slots"))
	assert.EqualValues(t, 2, sem.Value)
	assert.EqualValues(t, 2, sem.Bound)
	assert.True(t, detail[report.Event](t, object(t, s, "done")).Set)
	bar := detail[report.Barrier](t, object(t, s, "start"))
	assert.EqualValues(t, 3, bar.Parties)
	assert.Zero(t, bar.Arrived)
	jobs := detail[report.Queue](t, object(t, s, "jobs"))
	assert.Equal(t, report.Queue{Mode: "mpmc", Capacity: 8, SlotSize: 64, Depth: 3, Head: jobs.Head, Tail: jobs.Tail}, jobs)
	counter := detail[report.Value](t, object(t, s, "counter"))
	assert.Equal(t, 8, counter.ElemSize)
	assert.True(t, counter.Locked)
	assert.False(t, counter.Lock.Locked)
	point := detail[report.Value](t, object(t, s, "point"))
	assert.Equal(t, report.Value{ElemSize: 32, Buffered: true, Stores: point.Stores}, point)
	grid := detail[report.Array](t, object(t, s, "grid"))
	assert.Equal(t, 16, grid.Len)
	assert.Equal(t, 8, grid.ElemSize)
	assert.True(t, grid.Locked)
	flags := detail[report.Array](t, object(t, s, "flags"))
	assert.Equal(t, report.Array{ElemSize: 4, Len: 5}, flags)
	blob := object(t, s, "blob")
	assert.Equal(t, "bytes", blob.Kind)
	assert.Nil(t, blob.Detail)

	// The human form shows the same, aligned.
	code, out, _ := shmctl(t, "inspect", name)
	assert.Equal(t, exitOK, code)
	for _, want := range []string{
		"PARTICIPANTS (1)", "OBJECTS (13)",
		"locked by pid " + strconv.Itoa(p.Pid()) + " (alive)",
		"mpmc 3/8 queued, slot 64 B, open",
		"value 2 (bound 2)", "0 of 3 arrived", "len 16; lock: unlocked", "len 5; raw", "raw; double-buffered, 0 stores",
		"lock: unlocked", "0 waiting; lock: locked by pid " + strconv.Itoa(p.Pid()) + " (alive)",
	} {
		assert.Contains(t, out, want)
	}
}

// Looking is not touching: ls, inspect and gc --dry-run leave every byte
// of a segment as it was, and join no participant table.
func TestReadingLeavesTheSegmentUntouched(t *testing.T) {
	name := testutil.Name(t, "untouched")
	p := start(t, populate, populateArgs{Name: name, Ready: control(t)})
	kill(t, p)
	path := filepath.Join(shm.Dir, name)
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	for _, args := range [][]string{
		{"ls", testutil.Pattern(t)}, {"ls", "--json", "-a"}, {"inspect", name}, {"inspect", "--json", path},
		{"gc", "-n", testutil.Pattern(t)},
	} {
		code, _, errOut := shmctl(t, args...)
		assert.Equal(t, exitOK, code, "%v: %s", args, errOut)
	}
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "reading wrote to the segment")
}

// gc keeps a segment while its creator lives, while a participant lives,
// and while a process maps it without being in the table; then removes it.
func TestGcKeepsSegmentsInUse(t *testing.T) {
	byUs := testutil.Name(t, "ours")
	seg, err := shm.Create(byUs, 4096)
	require.NoError(t, err)
	defer seg.Detach()

	attached := testutil.Name(t, "attached")
	_, err = procs.Run(createAndExit, attached)
	require.NoError(t, err)
	other, err := shm.Open(attached)
	require.NoError(t, err)

	mapped := testutil.Name(t, "mapped")
	_, err = procs.Run(createAndExit, mapped)
	require.NoError(t, err)
	mapper := start(t, mapAndBlock, populateArgs{Name: mapped, Ready: control(t)})

	gc := func(args ...string) map[string]outcome {
		var outs []outcome
		require.Equal(t, exitOK, shmctlJSON(t, &outs, append([]string{"gc", testutil.Pattern(t)}, args...)...))
		m := map[string]outcome{}
		for _, o := range outs {
			m[o.Name] = o
		}
		return m
	}
	got := gc()
	require.Len(t, got, 3)
	assert.Equal(t, actionKept, got[byUs].Action)
	assert.Equal(t, "creator pid "+strconv.Itoa(os.Getpid())+" is alive", got[byUs].Reason)
	assert.Equal(t, actionKept, got[attached].Action)
	assert.Equal(t, "attached and alive: pid "+strconv.Itoa(os.Getpid()), got[attached].Reason)
	assert.Equal(t, actionKept, got[mapped].Action)
	assert.Equal(t, "mapped by pid "+strconv.Itoa(mapper.Pid()), got[mapped].Reason)
	assert.True(t, exists(byUs) && exists(attached) && exists(mapped))

	require.NoError(t, other.Detach())
	kill(t, mapper)
	got = gc("--dry-run")
	assert.Equal(t, actionWouldRemove, got[attached].Action)
	assert.Equal(t, actionWouldRemove, got[mapped].Action)
	assert.True(t, exists(attached) && exists(mapped))
	got = gc()
	assert.Equal(t, actionKept, got[byUs].Action)
	assert.Equal(t, actionRemoved, got[attached].Action)
	assert.Equal(t, actionRemoved, got[mapped].Action)
	assert.True(t, exists(byUs))
	assert.False(t, exists(attached) || exists(mapped))

	got = gc("--older-than", "1h")
	assert.Equal(t, actionKept, got[byUs].Action)
}

// Foreign and corrupt files are reported as such and never collected.
func TestForeignAndCorruptFilesAreReportedAndNeverCollected(t *testing.T) {
	foreign := testutil.Name(t, "foreign")
	require.NoError(t, os.WriteFile(filepath.Join(shm.Dir, foreign), []byte("not ours"), 0o600))
	good := testutil.Name(t, "good")
	_, err := procs.Run(createAndExit, good)
	require.NoError(t, err)
	img, err := os.ReadFile(filepath.Join(shm.Dir, good))
	require.NoError(t, err)
	corrupt := testutil.Name(t, "corrupt")
	bad := append([]byte(nil), img...)
	bad[24] ^= 0xff // a byte of the id: the header checksum no longer matches
	require.NoError(t, os.WriteFile(filepath.Join(shm.Dir, corrupt), bad, 0o600))
	version := testutil.Name(t, "version")
	bad = append([]byte(nil), img...)
	bad[8] = 99
	require.NoError(t, os.WriteFile(filepath.Join(shm.Dir, version), bad, 0o600))
	truncated := testutil.Name(t, "truncated")
	require.NoError(t, os.WriteFile(filepath.Join(shm.Dir, truncated), img[:200], 0o600))

	code, out, _ := shmctl(t, "ls", testutil.Pattern(t))
	assert.Equal(t, exitOK, code)
	assert.NotContains(t, out, foreign, "foreign files show with -a only")
	assert.Regexp(t, `(?m)^`+corrupt+`\s.*\scorrupt\s+-\s+-\s+segment is corrupt: header checksum`, out)
	assert.Regexp(t, `(?m)^`+version+`\s.*\sversion\s+-\s+-\s+unsupported segment layout version: layout 99`, out)
	assert.Regexp(t, `(?m)^`+truncated+`\s.*\scorrupt\s+.*shorter than a header`, out)
	assert.Regexp(t, `(?m)^`+good+`\s.*\sdead\s`, out)

	code, out, _ = shmctl(t, "ls", "-a", testutil.Pattern(t))
	assert.Equal(t, exitOK, code)
	assert.Regexp(t, `(?m)^`+foreign+`\s.*\sforeign\s+-\s+-\s+not a multiproc segment$`, out)

	var outs []outcome
	require.Equal(t, exitOK, shmctlJSON(t, &outs, "gc", "-a", testutil.Pattern(t)))
	require.Len(t, outs, 5)
	for _, o := range outs {
		if o.Name == good {
			assert.Equal(t, actionRemoved, o.Action)
			continue
		}
		assert.Equal(t, actionKept, o.Action, o.Name)
		assert.True(t, exists(o.Name), o.Name)
	}

	code, _, errOut := shmctl(t, "inspect", corrupt)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "header checksum")
}

func TestRmRemovesOnlyWhatIsSafeUnlessForced(t *testing.T) {
	dead := testutil.Name(t, "dead")
	_, err := procs.Run(createAndExit, dead)
	require.NoError(t, err)
	live := testutil.Name(t, "live")
	seg, err := shm.Create(live, 4096)
	require.NoError(t, err)
	defer seg.Detach()
	foreign := testutil.Name(t, "foreign")
	require.NoError(t, os.WriteFile(filepath.Join(shm.Dir, foreign), []byte("x"), 0o600))

	code, out, errOut := shmctl(t, "rm", dead, live, foreign, testutil.Name(t, "missing"))
	assert.Equal(t, exitFail, code)
	assert.Equal(t, "removed "+dead+"\n", out)
	assert.Contains(t, errOut, live+": kept: in use, creator pid "+strconv.Itoa(os.Getpid())+" is alive")
	assert.Contains(t, errOut, foreign+": kept: foreign")
	assert.Contains(t, errOut, "missing: failed: ")
	assert.False(t, exists(dead))
	assert.True(t, exists(live) && exists(foreign))

	var outs []outcome
	require.Equal(t, exitOK, shmctlJSON(t, &outs, "rm", "-f", filepath.Join(shm.Dir, live), foreign))
	assert.Equal(t, []outcome{{Name: live, Action: actionRemoved}, {Name: foreign, Action: actionRemoved}}, outs)
	assert.False(t, exists(live) || exists(foreign))
}

func TestCommandLine(t *testing.T) {
	code, _, errOut := shmctl(t)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "Usage:")
	code, out, _ := shmctl(t, "help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "shmctl gc")
	code, _, errOut = shmctl(t, "frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
	code, _, _ = shmctl(t, "ls", "--bogus")
	assert.Equal(t, exitUsage, code)
	code, _, _ = shmctl(t, "ls", "-h")
	assert.Equal(t, exitOK, code)
	code, _, errOut = shmctl(t, "inspect")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "which segment")
	code, _, errOut = shmctl(t, "ls", "[")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "syntax error in pattern")
	code, _, errOut = shmctl(t, "inspect", testutil.Name(t, "missing"))
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "no such file in /dev/shm")

	// Flags may follow the names; "--" ends them.
	name := testutil.Name(t, "flags")
	seg, err := shm.Create(name, 4096)
	require.NoError(t, err)
	defer seg.Detach()
	var segs []report.Segment
	require.Equal(t, exitOK, shmctlJSON(t, &segs, "ls", testutil.Pattern(t), "-a"))
	require.Len(t, segs, 1)
	assert.Equal(t, name, segs[0].Name)
	code, out, _ = shmctl(t, "ls", "--", "--json")
	assert.Equal(t, exitOK, code)
	assert.True(t, strings.HasPrefix(out, "NAME"), "after --, --json is a pattern")
}
