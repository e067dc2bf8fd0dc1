package procs_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relayExecutor is an Executor outside the pool, as distpool's is: it encodes each
// task, hands the bytes to another pool's RunEncoded (in distpool, a host
// on another machine), and delivers what comes back.
type relayExecutor struct {
	remote *procs.Pool
}

func (r *relayExecutor) Size() int          { return 3 }
func (r *relayExecutor) Callback(fn func()) { fn() }
func (r *relayExecutor) Submit(j *procs.Job) error {
	for i := range j.Tasks() {
		task, err := j.EncodeTask(nil, i)
		if err != nil {
			return err
		}
		if err := r.remote.RunEncoded(j.Func(), j.Items(i), task, func(payload []byte, w procs.Worker, err error) {
			if err != nil {
				j.Fail(i, err)
				return
			}
			j.Deliver(i, payload, procs.Worker{Name: "relayed/" + w.Name, Pid: w.Pid})
		}); err != nil {
			return err
		}
	}
	return nil
}

func TestGenericFunctionsRunOnAnExecutorOutsideProcs(t *testing.T) {
	e := &relayExecutor{remote: newPool(t, 2)}
	got, err := procs.Map(e, double, ints(100), 7)
	require.NoError(t, err)
	for i, v := range got {
		require.Equal(t, 2*i, v)
	}
	v, err := procs.Apply(e, square, 9)
	require.NoError(t, err)
	assert.Equal(t, 81, v)

	_, err = procs.Apply(e, fail, "no")
	var te *procs.TaskError
	require.True(t, errors.As(err, &te), "%v", err)
	assert.Equal(t, "no", te.Message)
	assert.Regexp(t, `^relayed/PoolWorker-\d+$`, te.Worker)

	_, err = procs.Apply(e, exits, 3)
	assert.True(t, errors.Is(err, procs.ErrWorkerDied), "%v", err)

	var seen []int
	for v, err := range procs.ImapUnordered(e, double, slices.Values(ints(20)), 3) {
		require.NoError(t, err)
		seen = append(seen, v)
	}
	slices.Sort(seen)
	assert.Equal(t, 38, seen[19])
}

func TestRunEncodedRefusesUnknownFunctionsAndEmptyTasks(t *testing.T) {
	p := newPool(t, 1)
	done := func([]byte, procs.Worker, error) { t.Error("done called") }
	assert.Error(t, p.RunEncoded("no-such-function", 1, nil, done))
	assert.Error(t, p.RunEncoded(double.Name(), 0, nil, done))
	assert.Error(t, p.RunEncoded(double.Name(), 1, nil, nil))
}
