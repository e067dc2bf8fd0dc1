package procs_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Try, Context and Timeout forms of the blocking calls, against real
// children and pool workers. A gate is a one-way pipe whose write end
// only the test holds: a child or task blocked reading it goes on when
// the test closes that end (EOF), so nothing here sleeps to synchronise.

type gatedItem struct {
	Gate    *procs.Conn // read end: blocks until the test closes the write end
	Started *procs.Conn // write end: one message per task that began
	I       int
}

var (
	// waitGate returns when its gate's write end is closed.
	waitGate = procs.Register("forms-wait-gate", func(gate *procs.Conn) (struct{}, error) {
		defer gate.Close()
		_, err := gate.RecvBytes()
		if err == io.EOF {
			return struct{}{}, nil
		}
		return struct{}{}, errors.Join(errors.New("gate: want EOF"), err)
	})

	// gated says it started, waits for its gate, and returns its item.
	gated = procs.Register("forms-gated", func(g gatedItem) (int, error) {
		defer g.Gate.Close()
		defer g.Started.Close()
		if err := g.Started.SendBytes([]byte{1}); err != nil {
			return 0, err
		}
		if _, err := g.Gate.RecvBytes(); err != io.EOF {
			return 0, errors.Join(errors.New("gate: want EOF"), err)
		}
		return g.I, nil
	})
)

// newGate returns the read end of a gate and a function that opens it.
func newGate(t *testing.T) (*procs.Conn, func()) {
	t.Helper()
	r, w := newPipe(t, false)
	return r, func() { require.NoError(t, w.Close()) }
}

// gatedItems makes n items of gated on one gate, and the read end of
// their Started pipe.
func gatedItems(t *testing.T, n int) ([]gatedItem, *procs.Conn, func()) {
	t.Helper()
	g, open := newGate(t)
	startedR, startedW := newPipe(t, false)
	items := make([]gatedItem, n)
	for i := range items {
		items[i] = gatedItem{Gate: g, Started: startedW, I: i}
	}
	return items, startedR, open
}

// cancelWhenStarted cancels the returned context once a gated task has
// started.
func cancelWhenStarted(t *testing.T, started *procs.Conn) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		defer cancel()
		_, _ = started.RecvBytesTimeout(testutil.Patience) // also a safety net: cancels on timeout
	}()
	return ctx
}

func TestJoinFormsOnARunningChild(t *testing.T) {
	g, open := newGate(t)
	p := testutil.Start(t, waitGate, g)

	assert.ErrorIs(t, p.TryJoin(), procs.ErrRunning)
	err := p.JoinTimeout(10 * time.Millisecond)
	assert.ErrorIs(t, err, procs.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.JoinContext(ctx), context.Canceled)
	assert.True(t, p.IsAlive(), "giving up on a join leaves the child running")

	open()
	require.NoError(t, p.JoinTimeout(testutil.Patience))
	assert.NoError(t, p.TryJoin(), "an ended child's outcome, without waiting")
	assert.NoError(t, p.JoinContext(ctx), "an ended child's outcome wins over an ended context")

	q := testutil.Start(t, fail, "boom")
	require.Error(t, q.JoinTimeout(testutil.Patience))
	var exit *procs.ExitError
	require.ErrorAs(t, q.TryJoin(), &exit)
	assert.Equal(t, "boom", exit.Message)
}

func TestRecvFormsTimeOutThenTheMessageArrivesWhole(t *testing.T) {
	a, b := newPipe(t, true)
	p := testutil.Start(t, echoBytes, b)
	require.NoError(t, b.Close())

	buf := make([]byte, 16)
	_, err := a.RecvBytesTimeout(20 * time.Millisecond)
	assert.ErrorIs(t, err, procs.ErrTimeout)
	_, err = a.TryRecvBytes()
	assert.ErrorIs(t, err, procs.ErrEmpty)
	_, err = a.TryRecvBytesInto(buf)
	assert.ErrorIs(t, err, procs.ErrEmpty)
	_, err = a.RecvBytesIntoTimeout(buf, 0)
	assert.ErrorIs(t, err, procs.ErrTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.RecvBytesContext(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = a.RecvBytesIntoContext(ctx, buf)
	assert.ErrorIs(t, err, context.Canceled)

	// Larger than the receive buffer: it arrives in many reads.
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	require.NoError(t, a.SendBytes(big))
	got, err := a.RecvBytesTimeout(testutil.Patience)
	require.NoError(t, err)
	assert.True(t, slices.Equal(big, got), "the echoed megabyte comes back whole")

	require.NoError(t, a.SendBytes([]byte("small")))
	ready, err := a.Poll(testutil.Patience)
	require.NoError(t, err)
	require.True(t, ready)
	n, err := a.TryRecvBytesInto(buf) // one small write(2) arrives as one
	require.NoError(t, err)
	assert.Equal(t, "small", string(buf[:n]))

	require.NoError(t, a.SendBytes([]byte("ctx")))
	got, err = a.RecvBytesContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ctx", string(got))

	require.NoError(t, a.Close())
	require.NoError(t, p.JoinTimeout(testutil.Patience))
	echoed, err := procs.Result[int](p)
	require.NoError(t, err)
	assert.Equal(t, 3, echoed, "the timed-out receives took nothing from the stream")
}

func TestRecvValueFormsAcrossAChild(t *testing.T) {
	a, b := newPipe(t, true)
	p := testutil.Start(t, echoNotes, b)
	require.NoError(t, b.Close())

	var n note
	assert.ErrorIs(t, a.RecvTimeout(&n, 20*time.Millisecond), procs.ErrTimeout)
	assert.ErrorIs(t, a.TryRecv(&n), procs.ErrEmpty)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, a.RecvContext(ctx, &n), context.Canceled)

	require.NoError(t, a.Send(note{Seq: 21, Text: "x"}))
	require.NoError(t, a.RecvTimeout(&n, testutil.Patience))
	assert.Equal(t, note{Seq: 42, Text: "x"}, n)

	require.NoError(t, a.Send(note{Seq: 1}))
	ready, err := a.Poll(testutil.Patience)
	require.NoError(t, err)
	require.True(t, ready)
	require.NoError(t, a.TryRecv(&n))
	assert.Equal(t, 2, n.Seq)

	require.NoError(t, a.Close())
	require.NoError(t, p.JoinTimeout(testutil.Patience))
	ok, err := a.Poll(0)
	assert.False(t, ok)
	assert.ErrorIs(t, err, procs.ErrConnClosed)
}

func TestTryRecvAfterThePeerEndedIsEOF(t *testing.T) {
	r, w := newPipe(t, false)
	require.NoError(t, w.Send(7))
	require.NoError(t, w.Close())
	var v int
	require.NoError(t, r.TryRecv(&v))
	assert.Equal(t, 7, v)
	assert.ErrorIs(t, r.TryRecv(&v), io.EOF, "a hung-up peer: a receive cannot block, so it is made")
	_, err := r.RecvBytesTimeout(testutil.Patience)
	assert.ErrorIs(t, err, io.EOF)
}

func TestApplyFormsGiveUpAndThePoolGoesOn(t *testing.T) {
	p := newPool(t, 1)
	items, started, open := gatedItems(t, 1)
	blocker := procs.ApplyAsync(p, gated, items[0])
	_, err := started.RecvBytesTimeout(testutil.Patience)
	require.NoError(t, err, "the only worker is busy")

	_, err = procs.ApplyTimeout(p, double, 4, 20*time.Millisecond)
	assert.ErrorIs(t, err, procs.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = procs.ApplyContext(ctx, p, double, 5)
	assert.ErrorIs(t, err, context.Canceled)
	queued := procs.ApplyAsync(p, double, 6)

	open()
	v, err := blocker.GetTimeout(testutil.Patience)
	require.NoError(t, err)
	assert.Equal(t, 0, v)
	v, err = procs.ApplyTimeout(p, double, 21, testutil.Patience)
	require.NoError(t, err)
	assert.Equal(t, 42, v)
	v, err = queued.GetTimeout(testutil.Patience)
	require.NoError(t, err)
	assert.Equal(t, 12, v, "a result nobody gave up on still comes")
}

func TestMapContextCancelledMidwayLeavesThePoolUsable(t *testing.T) {
	p := newPool(t, 2)
	items, started, open := gatedItems(t, 40)

	ctx := cancelWhenStarted(t, started)
	out, err := procs.MapContext(ctx, p, gated, items, 1)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, out)

	open()
	got, err := procs.MapTimeout(p, double, ints(20), 1, testutil.Patience)
	require.NoError(t, err, "no worker is wedged")
	assert.Equal(t, []int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38}, got)

	// Close and Join wait for every task sent; then count those that ran.
	require.NoError(t, p.Close())
	require.NoError(t, p.Join())
	ran := 1 // cancelWhenStarted took the first one
	for {
		_, err := started.TryRecvBytes()
		if errors.Is(err, procs.ErrEmpty) {
			break
		}
		require.NoError(t, err)
		ran++
	}
	assert.Less(t, ran, len(items), "the chunks not yet sent were dropped")
}

func TestMapTimeoutAndStarmapForms(t *testing.T) {
	p := newPool(t, 2)
	items, _, open := gatedItems(t, 4)
	_, err := procs.MapTimeout(p, gated, items, 1, 20*time.Millisecond)
	assert.ErrorIs(t, err, procs.ErrTimeout)
	open()

	args := []procs.Args2[int, int]{{2, 10}, {3, 3}}
	out, err := procs.StarmapTimeout(p, power, args, 1, testutil.Patience)
	require.NoError(t, err)
	assert.Equal(t, []int{1024, 27}, out)
	out, err = procs.StarmapContext(context.Background(), p, power, args, 0)
	require.NoError(t, err)
	assert.Equal(t, []int{1024, 27}, out)
	empty, err := procs.MapContext(context.Background(), p, double, nil, 0)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestImapFormsEndWithTheBoundsError(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, p procs.Executor, items []gatedItem) iter.Seq2[int, error]
		want error
	}{
		{"ImapContext", func(ctx context.Context, p procs.Executor, items []gatedItem) iter.Seq2[int, error] {
			return procs.ImapContext(ctx, p, gated, slices.Values(items), 1)
		}, context.Canceled},
		{"ImapUnorderedContext", func(ctx context.Context, p procs.Executor, items []gatedItem) iter.Seq2[int, error] {
			return procs.ImapUnorderedContext(ctx, p, gated, slices.Values(items), 1)
		}, context.Canceled},
		{"ImapTimeout", func(_ context.Context, p procs.Executor, items []gatedItem) iter.Seq2[int, error] {
			return procs.ImapTimeout(p, gated, slices.Values(items), 1, 50*time.Millisecond)
		}, procs.ErrTimeout},
		{"ImapUnorderedTimeout", func(_ context.Context, p procs.Executor, items []gatedItem) iter.Seq2[int, error] {
			return procs.ImapUnorderedTimeout(p, gated, slices.Values(items), 1, 50*time.Millisecond)
		}, procs.ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, 2)
			items, started, open := gatedItems(t, 10)
			ctx := cancelWhenStarted(t, started)
			var errs []error
			for _, err := range tc.run(ctx, p, items) {
				errs = append(errs, err)
			}
			require.Len(t, errs, 1, "nothing finished before the bound ran out; then one pair with its error")
			assert.ErrorIs(t, errs[0], tc.want)

			open()
			var got []int
			for v, err := range procs.ImapTimeout(p, double, slices.Values(ints(5)), 1, testutil.Patience) {
				require.NoError(t, err)
				got = append(got, v)
			}
			assert.Equal(t, []int{0, 2, 4, 6, 8}, got, "the pool goes on")
		})
	}
}

func TestPoolJoinFormsWaitForTheTasksAfterClose(t *testing.T) {
	p := newPool(t, 1)
	assert.ErrorIs(t, p.TryJoin(), procs.ErrPoolRunning)
	items, started, open := gatedItems(t, 1)
	r := procs.ApplyAsync(p, gated, items[0])
	_, err := started.RecvBytesTimeout(testutil.Patience)
	require.NoError(t, err)
	require.NoError(t, p.Close())

	assert.ErrorIs(t, p.TryJoin(), procs.ErrRunning)
	assert.ErrorIs(t, p.JoinTimeout(10*time.Millisecond), procs.ErrTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.JoinContext(ctx), context.Canceled)

	open()
	require.NoError(t, p.JoinTimeout(testutil.Patience))
	assert.NoError(t, p.TryJoin())
	v, err := r.TryGet()
	require.NoError(t, err, "the task ran to its end before the workers exited")
	assert.Equal(t, 0, v)
}

func TestRunTimeoutKillsTheChild(t *testing.T) {
	_, err := procs.RunTimeout(blockForever, struct{}{}, 20*time.Millisecond)
	assert.ErrorIs(t, err, procs.ErrTimeout)
	assert.Empty(t, procs.ActiveChildren(), "the child was killed and reaped")
	n, err := procs.RunTimeout(square, 9, testutil.Patience)
	require.NoError(t, err)
	assert.Equal(t, 81, n)
}
