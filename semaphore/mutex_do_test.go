package semaphore

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMutexDoRunsFUnderTheLockAndReturnsItsError(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	ran := false
	require.NoError(t, m.Do(func(repair bool) error {
		assert.False(t, repair)
		assert.True(t, m.HeldBySelf(), "f runs holding the lock")
		ran = true
		return nil
	}))
	assert.True(t, ran)
	assert.False(t, m.Locked())

	errF := errors.New("f failed")
	require.ErrorIs(t, m.Do(func(bool) error { return errF }), errF)
	assert.False(t, m.Locked(), "unlocked after f failed")

	assert.Panics(t, func() { _ = m.Do(func(bool) error { panic("f") }) })
	assert.False(t, m.Locked(), "unlocked after f panicked")
	require.NoError(t, m.Lock(), "still usable")
	require.NoError(t, m.Unlock())
}

// A dead holder: f repairs, the lock is marked consistent, and Do still
// says the owner died.
func TestMutexDoAfterADeadHolderRepairsAndReportsErrOwnerDead(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	atomic.StoreUint64(m.word, deadTag(seg)) // as if a dead process held it
	err = m.Do(func(repair bool) error {
		assert.True(t, repair)
		assert.False(t, m.State().Consistent, "f runs before the lock is marked consistent")
		return nil
	})
	require.ErrorIs(t, err, ErrOwnerDead)
	assert.True(t, Acquired(err))
	st := m.State()
	assert.False(t, st.Locked)
	assert.True(t, st.Consistent)
	require.NoError(t, m.Do(func(repair bool) error { assert.False(t, repair); return nil }), "recovered")
}

// A repair that fails leaves the lock not recoverable, as a robust mutex
// whose repair failed is: nobody may trust what it guards.
func TestMutexDoWhoseRepairFailsLeavesTheLockNotRecoverable(t *testing.T) {
	seg := newSeg(t)
	m, err := NewMutex(seg, "m")
	require.NoError(t, err)
	atomic.StoreUint64(m.word, deadTag(seg))
	errRepair := errors.New("cannot repair")
	err = m.Do(func(bool) error { return errRepair })
	require.ErrorIs(t, err, errRepair)
	assert.NotErrorIs(t, err, ErrOwnerDead)
	ran := false
	err = m.Do(func(bool) error { ran = true; return nil })
	require.ErrorIs(t, err, ErrNotRecoverable)
	assert.False(t, ran, "f does not run when the lock cannot be taken")
}

// Across processes: a holder killed while holding the lock is repaired by
// the next Do, in this process.
func TestCrossProcessMutexDoRepairsAfterAKilledHolder(t *testing.T) {
	seg := newSeg(t)
	mu, err := NewMutex(seg, "mu")
	require.NoError(t, err)
	holdAndKill(t, seg, holdArg{Mu: mu}, nil)
	repaired := false
	err = mu.Do(func(repair bool) error { repaired = repair; return nil })
	require.ErrorIs(t, err, ErrOwnerDead)
	assert.True(t, repaired)
	assert.True(t, mu.State().Consistent)
	assert.False(t, mu.Locked())
}
