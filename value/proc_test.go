package value_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// Arguments of the child functions: shared values cross as handles.
type (
	incArgs struct {
		V       *value.Value[int64]
		N       int
		UseLock bool // Lock/Load/Store/Unlock instead of Update
		Go      *value.RawValue[uint32]
	}
	addArgs struct {
		V *value.RawValue[int64]
		N int
	}
	hangArgs struct {
		V     *value.Value[int64]
		Ready *value.RawValue[uint32]
	}
	storeArgs struct {
		V     *value.RawValue[wide]
		Ready *value.RawValue[uint32]
	}
	openArgs struct {
		Seg  *shm.Segment
		Name string
	}
)

// wide is a value too large for one atomic word: every element equal.
type wide [16]uint64

func fillWide(n uint64) (w wide) {
	for i := range w {
		w[i] = n
	}
	return w
}

func (w wide) whole() bool {
	for _, x := range w {
		if x != w[0] {
			return false
		}
	}
	return true
}

var (
	// lockedIncrements adds 1, N times, under the value's lock, after Go
	// (if given) turns non-zero.
	lockedIncrements = procs.Register("value-locked-increments", func(a incArgs) (int, error) {
		if a.Go != nil {
			waitFlag(a.Go)
		}
		for range a.N {
			if err := increment(a.V, a.UseLock); err != nil {
				return 0, err
			}
		}
		return a.N, nil
	})

	lockFreeAdds = procs.Register("value-lock-free-adds", func(a addArgs) (int64, error) {
		var last int64
		for range a.N {
			last = a.V.Add(1)
		}
		return last, nil
	})

	// lockAndHang takes the lock, leaves a half-done update behind (+1000
	// where +1 was meant), says so and waits to be killed.
	lockAndHang = procs.Register("value-lock-and-hang", func(a hangArgs) (int, error) {
		if err := a.V.Lock(); err != nil {
			return 0, err
		}
		a.V.Store(a.V.Load() + 1000)
		a.Ready.Store(1)
		testutil.BlockForever()
		return 0, nil
	})

	storeForever = procs.Register("value-store-forever", func(a storeArgs) (int, error) {
		a.Ready.Store(1)
		for n := uint64(1); ; n++ {
			a.V.Store(fillWide(n))
		}
	})

	openAsInt32 = procs.Register("value-open-as-int32", func(a openArgs) (string, error) {
		_, err := value.Open[int32](a.Seg, a.Name)
		switch {
		case errors.Is(err, shm.ErrTypeMismatch):
			return "type mismatch", nil
		case err != nil:
			return "", err
		}
		return "opened", nil
	})
)

func increment(v *value.Value[int64], useLock bool) error {
	if !useLock {
		return v.Update(func(p *int64) { *p++ })
	}
	if err := v.Lock(); err != nil {
		return err
	}
	v.Store(v.Load() + 1)
	return v.Unlock()
}

// waitFlag waits in a child until another process sets a flag: the flag
// is the synchronization, the deadline only a safety net.
func waitFlag(f *value.RawValue[uint32]) bool {
	return testutil.Eventually(func() bool { return f.Load() != 0 })
}

func waitChildFlag(t *testing.T, f *value.RawValue[uint32], p *procs.Process) {
	t.Helper()
	testutil.WaitChild(t, p, func() bool { return f.Load() != 0 })
}

func TestLockedIncrementsFromProcessesSumExactly(t *testing.T) {
	for _, useLock := range []bool{false, true} {
		t.Run(fmt.Sprintf("useLock=%v", useLock), func(t *testing.T) {
			seg := newSegment(t)
			v, err := value.New[int64](seg, "n", 0)
			require.NoError(t, err)
			const procsN, m = 3, 3000
			var ps []*procs.Process
			for range procsN {
				ps = append(ps, testutil.Start(t, lockedIncrements, incArgs{V: v, N: m, UseLock: useLock}))
			}
			// The parent takes part too.
			for range m {
				require.NoError(t, increment(v, useLock))
			}
			for _, p := range ps {
				require.NoError(t, p.Join())
			}
			require.Equal(t, int64((procsN+1)*m), v.Load())
			require.False(t, v.Mutex().Locked())
		})
	}
}

func TestLockFreeAddFromProcessesSumsExactly(t *testing.T) {
	seg := newSegment(t)
	v, err := value.NewRaw[int64](seg, "n", 0)
	require.NoError(t, err)
	const procsN, m = 3, 50000
	var ps []*procs.Process
	for range procsN {
		ps = append(ps, testutil.Start(t, lockFreeAdds, addArgs{V: v, N: m}))
	}
	for range m {
		v.Add(1)
	}
	for _, p := range ps {
		require.NoError(t, p.Join())
	}
	require.Equal(t, int64((procsN+1)*m), v.Load())
}

func TestHolderKilledInsideLockNextUpdateGetsErrOwnerDead(t *testing.T) {
	seg := newSegment(t)
	v, err := value.New[int64](seg, "n", 1)
	require.NoError(t, err)
	ready, err := value.NewRaw[uint32](seg, "ready", 0)
	require.NoError(t, err)
	p := testutil.Start(t, lockAndHang, hangArgs{V: v, Ready: ready})
	waitChildFlag(t, ready, p)
	require.True(t, v.Mutex().Locked())
	require.NoError(t, p.Kill())
	require.Error(t, p.Join())

	// The update runs (the caller got the lock), sees what the dead holder
	// left, and reports the death.
	var saw int64
	err = v.Update(func(n *int64) { saw = *n; *n = 2 })
	require.ErrorIs(t, err, semaphore.ErrOwnerDead)
	require.True(t, semaphore.Acquired(err))
	require.Contains(t, err.Error(), `value "n": update`)
	require.Equal(t, int64(1001), saw)
	require.Equal(t, int64(2), v.Load())
	// Update marked the lock consistent: it is usable again.
	require.NoError(t, v.Update(func(n *int64) { *n++ }))
	require.Equal(t, int64(3), v.Load())
	require.True(t, v.Mutex().State().Consistent)
}

func TestHolderKilledInsideLockNextLockGetsErrOwnerDeadAndMustMarkConsistent(t *testing.T) {
	for _, mark := range []bool{true, false} {
		t.Run(fmt.Sprintf("markConsistent=%v", mark), func(t *testing.T) {
			seg := newSegment(t)
			v, err := value.New[int64](seg, "n", 0)
			require.NoError(t, err)
			ready, err := value.NewRaw[uint32](seg, "ready", 0)
			require.NoError(t, err)
			p := testutil.Start(t, lockAndHang, hangArgs{V: v, Ready: ready})
			waitChildFlag(t, ready, p)
			require.NoError(t, p.Kill())
			require.Error(t, p.Join())

			err = v.Lock()
			require.ErrorIs(t, err, semaphore.ErrOwnerDead)
			require.Equal(t, int64(1000), v.Load())
			v.Store(0) // repair
			if mark {
				require.NoError(t, v.Mutex().MarkConsistent())
			}
			require.NoError(t, v.Unlock())
			err = v.Update(func(n *int64) { *n++ })
			if mark {
				require.NoError(t, err)
				require.Equal(t, int64(1), v.Load())
			} else {
				require.ErrorIs(t, err, semaphore.ErrNotRecoverable)
				require.False(t, semaphore.Acquired(err))
				require.Equal(t, int64(0), v.Load(), "f must not run without the lock")
			}
		})
	}
}

// A writer killed at an arbitrary point of storing a wide value leaves a
// whole value behind, and the next Store takes its claim over.
func TestWriterKilledMidStoreLeavesWholeValueAndStoresGoOn(t *testing.T) {
	for i := range 3 {
		seg := newSegment(t)
		v, err := value.NewRaw(seg, "wide", fillWide(0))
		require.NoError(t, err)
		ready, err := value.NewRaw[uint32](seg, "ready", 0)
		require.NoError(t, err)
		p := testutil.Start(t, storeForever, storeArgs{V: v, Ready: ready})
		waitChildFlag(t, ready, p)
		// Let it store a while: until the value has moved on some.
		for v.Load()[0] < uint64(1000*(i+1)) {
			require.True(t, p.IsAlive())
		}
		require.NoError(t, p.Kill())
		require.Error(t, p.Join())
		w := v.Load()
		require.True(t, w.whole(), "torn: %v", w)
		v.Store(fillWide(7)) // takes a dead writer's claim over if there is one
		require.Equal(t, fillWide(7), v.Load())
	}
}

func TestOpenWithAnotherTypeInAChildIsTypeMismatch(t *testing.T) {
	seg := newSegment(t)
	_, err := value.New[int64](seg, "n", 0)
	require.NoError(t, err)
	got, err := procs.Run(openAsInt32, openArgs{Seg: seg, Name: "n"})
	require.NoError(t, err)
	require.Equal(t, "type mismatch", got)
}

func TestOpenRawOfLockedAndBackIsKindMismatch(t *testing.T) {
	seg := newSegment(t)
	_, err := value.New[int64](seg, "locked", 0)
	require.NoError(t, err)
	_, err = value.NewRaw[int64](seg, "raw", 0)
	require.NoError(t, err)
	_, err = value.OpenRaw[int64](seg, "locked")
	require.ErrorIs(t, err, shm.ErrKindMismatch)
	_, err = value.Open[int64](seg, "raw")
	require.ErrorIs(t, err, shm.ErrKindMismatch)
	_, err = value.Open[int64](seg, "locked")
	require.NoError(t, err)
}

// A value in a named segment crosses too: the child attaches the segment
// by name. Nothing is left in /dev/shm.
func TestValueInNamedSegmentCrossesToAChild(t *testing.T) {
	name := testutil.Name(t)
	seg, err := shm.Create(name, 1<<16)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = seg.Detach()
		_ = shm.Unlink(name)
		_, err := os.Stat(filepath.Join(shm.Dir, name))
		require.True(t, os.IsNotExist(err), "segment left behind")
	})
	v, err := value.NewRaw[int64](seg, "n", 5)
	require.NoError(t, err)
	last, err := procs.Run(lockFreeAdds, addArgs{V: v, N: 10})
	require.NoError(t, err)
	require.Equal(t, int64(15), last)
	require.Equal(t, int64(15), v.Load())
}
