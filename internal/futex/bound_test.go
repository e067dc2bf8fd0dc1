package futex

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBoundForms(t *testing.T) {
	assert.True(t, NoWait().Try())
	assert.False(t, Block().Try())
	assert.Equal(t, Block(), Bound{}, "the zero Bound blocks")
	assert.Equal(t, Block(), Within(-1), "a negative timeout waits without limit")

	d, err := Block().Sleep(-1)
	require.NoError(t, err)
	assert.Less(t, d, time.Duration(0), "no limit")
	d, err = Block().Sleep(time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, time.Millisecond, d)

	b := Within(time.Hour)
	d, err = b.Sleep(-1)
	require.NoError(t, err)
	assert.Greater(t, d, 59*time.Minute)
	d, err = b.Sleep(time.Second)
	require.NoError(t, err)
	assert.Equal(t, time.Second, d)
	_, ok := b.Deadline()
	assert.True(t, ok)

	_, err = Within(0).Sleep(-1)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "a timeout matches DeadlineExceeded: %v", err)
	assert.Error(t, Within(0).Err())
}

func TestBoundContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := WithContext(ctx)
	assert.NoError(t, b.Err())
	assert.Equal(t, ctx, b.Context())
	cancel()
	assert.ErrorIs(t, b.Err(), context.Canceled)
	_, err := b.Sleep(time.Second)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotNil(t, Block().Context())
}

func TestNoWaitAllowsNoSleep(t *testing.T) {
	_, err := NoWait().Sleep(time.Second)
	assert.ErrorIs(t, err, ErrWouldBlock, "a loop that forgot NoWait() must not sleep")
}

func TestBoundFitsInRegisters(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(Bound{}), uintptr(32), "a larger Bound lives on the stack and costs every fast path")
}

func TestBoundFarDeadlineDoesNotWrap(t *testing.T) {
	b := Within(math.MaxInt64)
	assert.NoError(t, b.Err())
	d, err := b.Sleep(-1)
	require.NoError(t, err)
	assert.Greater(t, d, time.Duration(0))
	dl, ok := b.Deadline()
	assert.True(t, ok)
	assert.True(t, dl.After(time.Now()))
}
