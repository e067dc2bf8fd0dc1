package distpool_test

import (
	"errors"
	"slices"
	"sort"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/require"
)

// outcome is what a run of the generic functions produced, with what
// depends on the worker (its name, pid, stack) left out.
type outcome struct {
	Apply         int
	Map1, Map0    []int
	Map7          []int
	FailMap       []int
	FailMsg       string
	Panic         string
	Died          int
	DiedMap       []int
	Callback      []int
	CallbackErr   string
	Imap          []int
	ImapErrs      []string
	Unordered     []int
	Starmap       []int
	Words         [][]string
	ApplyAsyncErr string
}

func taskMessage(t *testing.T, err error) string {
	t.Helper()
	var te *procs.TaskError
	require.True(t, errors.As(err, &te), "%v is not a *procs.TaskError", err)
	return te.Message
}

// exercise runs the same calls on any executor.
func exercise(t *testing.T, e procs.Executor) outcome {
	var o outcome
	var err error
	items := make([]int, 50)
	for i := range items {
		items[i] = i
	}
	o.Apply, err = procs.Apply(e, square, 12)
	require.NoError(t, err)
	o.Map1, err = procs.Map(e, square, items, 1)
	require.NoError(t, err)
	o.Map0, err = procs.Map(e, square, items, 0)
	require.NoError(t, err)
	o.Map7, err = procs.Map(e, square, items, 7)
	require.NoError(t, err)

	o.FailMap, err = procs.Map(e, fails, items[:10], 2)
	o.FailMsg = taskMessage(t, err)

	_, err = procs.Apply(e, panics, "boom")
	require.True(t, errors.Is(err, procs.ErrTaskPanicked), "%v", err)
	o.Panic = taskMessage(t, err)

	_, err = procs.Apply(e, exits, 3)
	require.True(t, errors.Is(err, procs.ErrWorkerDied), "%v", err)
	var te *procs.TaskError
	require.True(t, errors.As(err, &te))
	o.Died = te.ExitCode
	o.DiedMap, err = procs.Map(e, exits, []int{1, 2, 3, 4, 5}, 1)
	require.True(t, errors.Is(err, procs.ErrWorkerDied), "%v", err)

	got := make(chan int, 1)
	r := procs.ApplyAsync(e, square, 9, procs.OnResult(func(v int) { got <- v }))
	v, err := r.Get()
	require.NoError(t, err)
	o.Callback = []int{v, <-got} // the callback ran before Get returned
	gotErr := make(chan error, 1)
	_, err = procs.ApplyAsync(e, fails, 4, procs.OnError(func(err error) { gotErr <- err })).Get()
	require.Error(t, err)
	o.CallbackErr = taskMessage(t, <-gotErr)

	for v, err := range procs.Imap(e, fails, slices.Values(items[:12]), 3) {
		o.Imap = append(o.Imap, v)
		msg := ""
		if err != nil {
			msg = taskMessage(t, err)
		}
		o.ImapErrs = append(o.ImapErrs, msg)
	}
	for v, err := range procs.ImapUnordered(e, square, slices.Values(items), 1) {
		require.NoError(t, err)
		o.Unordered = append(o.Unordered, v)
	}
	sort.Ints(o.Unordered)
	o.Starmap, err = procs.Starmap(e, add, []procs.Args2[int, int]{{A: 1, B: 2}, {A: 3, B: 4}, {A: 5, B: 6}}, 0)
	require.NoError(t, err)
	o.Words, err = procs.Map(e, words, []string{"a", "b", "c"}, 2)
	require.NoError(t, err)
	return o
}

func TestParityWithLocalPool(t *testing.T) {
	local, err := procs.NewPool(2)
	require.NoError(t, err)
	defer local.Terminate()
	want := exercise(t, local)

	p := newPool(t, "parity")
	startHost(t, "parity", "a", 2)
	startHost(t, "parity", "b", 2)
	waitSize(t, p, 4)
	got := exercise(t, p)
	require.Equal(t, want, got)
	require.Equal(t, 7, got.Died)
	require.Equal(t, "item 1 refused", got.FailMsg)

	// The tasks ran on the hosts: errors name the host's worker.
	_, err = procs.Apply(p, panics, "where")
	var te *procs.TaskError
	require.True(t, errors.As(err, &te), "%v", err)
	require.Regexp(t, `^(a|b)/PoolWorker-\d+$`, te.Worker)
}
