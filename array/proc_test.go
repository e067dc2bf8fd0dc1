package array_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

func TestMain(m *testing.M) { testutil.Main(m) }

type (
	bulkArgs struct {
		A       *array.Array[int64]
		N       int
		UseLock bool // Lock/Slice/Unlock instead of Update
		Go      *array.RawArray[uint32]
	}
	addArgs struct {
		A *array.RawArray[uint32]
		N int
	}
	viewArgs struct {
		A     *array.RawArray[int32]
		Flags *array.RawArray[uint32] // [0] child wrote, [1] parent wrote
	}
	hangArgs struct {
		A     *array.Array[int64]
		Ready *array.RawArray[uint32]
	}
	openArgs struct {
		Seg  *shm.Segment
		Name string
	}
)

var (
	// bulkIncrements adds 1 to every element, N times, under the lock.
	bulkIncrements = procs.Register("array-bulk-increments", func(a bulkArgs) (int, error) {
		if a.Go != nil && !waitFlag(a.Go, 0) {
			return 0, errors.New("never told to go")
		}
		for range a.N {
			if err := incrementAll(a.A, a.UseLock); err != nil {
				return 0, err
			}
		}
		return a.N, nil
	})

	// lockFreeAdds adds 1 to every element N times with element atomics.
	lockFreeAdds = procs.Register("array-lock-free-adds", func(a addArgs) (int, error) {
		for range a.N {
			for i := range a.A.Len() {
				a.A.Add(i, 1)
			}
		}
		return a.N, nil
	})

	// writeAndRead writes the view, signals, then waits for the parent's
	// write and returns what it sees.
	writeAndRead = procs.Register("array-write-and-read", func(a viewArgs) ([]int32, error) {
		s := a.A.Slice()
		for i := range s {
			s[i] = int32(i * 10)
		}
		a.Flags.Store(0, 1)
		if !waitFlag(a.Flags, 1) {
			return nil, errors.New("parent never wrote")
		}
		return append([]int32(nil), s...), nil
	})

	// dieInsideUpdate half-updates the array under its lock, says so and
	// waits to be killed.
	dieInsideUpdate = procs.Register("array-die-inside-update", func(a hangArgs) (int, error) {
		return 0, a.A.Update(func(s []int64) {
			for i := range len(s) / 2 {
				s[i]++
			}
			a.Ready.Store(0, 1)
			testutil.BlockForever()
		})
	})

	openAsFloat64 = procs.Register("array-open-as-float64", func(a openArgs) (string, error) {
		_, err := array.Open[float64](a.Seg, a.Name)
		if errors.Is(err, shm.ErrTypeMismatch) {
			return "type mismatch", nil
		}
		return fmt.Sprint(err), nil
	})
)

func incrementAll(a *array.Array[int64], useLock bool) error {
	if !useLock {
		return a.Update(func(s []int64) {
			for i := range s {
				s[i]++
			}
		})
	}
	if err := a.Lock(); err != nil {
		return err
	}
	s := a.Slice()
	for i := range s {
		s[i]++
	}
	return a.Unlock()
}

// waitFlag waits in a child until another process sets element i. The
// flag is the synchronization; the deadline is a safety net.
func waitFlag(f *array.RawArray[uint32], i int) bool {
	return testutil.Eventually(func() bool { return f.Load(i) != 0 })
}

func waitChildFlag(t *testing.T, f *array.RawArray[uint32], i int, p *procs.Process) {
	t.Helper()
	testutil.WaitChild(t, p, func() bool { return f.Load(i) != 0 })
}

func TestLockedBulkUpdatesFromProcessesSumExactly(t *testing.T) {
	for _, useLock := range []bool{false, true} {
		t.Run(fmt.Sprintf("useLock=%v", useLock), func(t *testing.T) {
			seg := newSegment(t)
			a, err := array.New[int64](seg, "a", 16)
			require.NoError(t, err)
			const procsN, m = 3, 2000
			var ps []*procs.Process
			for range procsN {
				ps = append(ps, testutil.Start(t, bulkIncrements, bulkArgs{A: a, N: m, UseLock: useLock}))
			}
			for range m {
				require.NoError(t, incrementAll(a, useLock))
			}
			for _, p := range ps {
				require.NoError(t, p.Join())
			}
			for i, x := range a.Slice() {
				require.Equal(t, int64((procsN+1)*m), x, "element %d", i)
			}
		})
	}
}

func TestLockFreeAddFromProcessesSumsExactly(t *testing.T) {
	seg := newSegment(t)
	a, err := array.NewRaw[uint32](seg, "a", 5)
	require.NoError(t, err)
	const procsN, m = 3, 5000
	var ps []*procs.Process
	for range procsN {
		ps = append(ps, testutil.Start(t, lockFreeAdds, addArgs{A: a, N: m}))
	}
	for range m {
		for i := range a.Len() {
			a.Add(i, 1)
		}
	}
	for _, p := range ps {
		require.NoError(t, p.Join())
	}
	for i := range a.Len() {
		require.Equal(t, uint32((procsN+1)*m), a.Load(i), "element %d", i)
	}
}

func TestViewsSeeOtherProcessesWrites(t *testing.T) {
	seg := newSegment(t)
	a, err := array.NewRaw[int32](seg, "a", 4)
	require.NoError(t, err)
	flags, err := array.NewRaw[uint32](seg, "flags", 2)
	require.NoError(t, err)
	p := testutil.Start(t, writeAndRead, viewArgs{A: a, Flags: flags})
	waitChildFlag(t, flags, 0, p)
	require.Equal(t, []int32{0, 10, 20, 30}, a.Slice())
	a.Slice()[3] = -1
	flags.Store(1, 1)
	require.NoError(t, p.Join())
	got, err := procs.Result[[]int32](p)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 10, 20, -1}, got)
}

func TestHolderKilledInsideUpdateNextUpdateGetsErrOwnerDead(t *testing.T) {
	seg := newSegment(t)
	a, err := array.New[int64](seg, "a", 4)
	require.NoError(t, err)
	ready, err := array.NewRaw[uint32](seg, "ready", 1)
	require.NoError(t, err)
	p := testutil.Start(t, dieInsideUpdate, hangArgs{A: a, Ready: ready})
	waitChildFlag(t, ready, 0, p)
	require.NoError(t, p.Kill())
	require.Error(t, p.Join())

	var saw []int64
	err = a.Update(func(s []int64) {
		saw = append(saw, s...)
		for i := range s { // repair: finish the dead holder's update
			s[i] = 1
		}
	})
	require.ErrorIs(t, err, semaphore.ErrOwnerDead)
	require.True(t, semaphore.Acquired(err))
	require.Equal(t, []int64{1, 1, 0, 0}, saw, "f sees the half-done update")
	require.NoError(t, a.Update(func(s []int64) { s[3]++ }))
	require.Equal(t, []int64{1, 1, 1, 2}, a.Slice())

	obj, err := seg.Lookup("a")
	require.NoError(t, err)
	info, err := array.Inspect(obj)
	require.NoError(t, err)
	require.Equal(t, "array of 4 8-byte elements, lock unlocked", info.String())
}

func TestOpenWithAnotherTypeInAChildIsTypeMismatch(t *testing.T) {
	seg := newSegment(t)
	_, err := array.New[int64](seg, "a", 3)
	require.NoError(t, err)
	got, err := procs.Run(openAsFloat64, openArgs{Seg: seg, Name: "a"})
	require.NoError(t, err)
	require.Equal(t, "type mismatch", got)
}
