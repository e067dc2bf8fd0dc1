package procs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every call site wraps a sentinel with "procs: <operation>: ", so a
// sentinel's own text must not name the package again.
func TestErrorMessagesNameThePackageOnce(t *testing.T) {
	a, b, err := procs.Pipe(true)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, a.Close())
	for _, err := range []error{a.Send(1), a.Recv(new(int))} {
		assert.ErrorIs(t, err, procs.ErrConnClosed)
		assert.Equal(t, 1, strings.Count(err.Error(), "procs:"), "%q", err)
	}

	p, err := procs.NewPool(1)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	_, err = procs.ApplyAsync(p, sleepy, time.Millisecond).Get()
	assert.ErrorIs(t, err, procs.ErrPoolClosed)
	assert.Equal(t, 1, strings.Count(err.Error(), "procs:"), "%q", err)
	require.NoError(t, p.Join())
}

func TestTimeoutMatchesDeadlineExceeded(t *testing.T) {
	p, err := procs.Start(blockForever, struct{}{})
	require.NoError(t, err)
	defer func() { _ = p.Kill(); _ = p.Join() }()
	err = p.JoinTimeout(10 * time.Millisecond)
	assert.ErrorIs(t, err, procs.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
