package testutil_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testutil.Main(m) }

var (
	failAtOnce = procs.Register("testutil-fail-at-once", func(struct{}) (int, error) {
		return 0, errors.New("never ready")
	})
	setWord = procs.Register("testutil-set-word", func(seg *shm.Segment) (int, error) {
		obj, err := seg.Lookup("word")
		if err != nil {
			return 0, err
		}
		atomic.StoreUint32(obj.Uint32(0), 1)
		return 0, nil // exits at once: the flag counts though the child is gone
	})
)

// fatalRecorder stands in for a test that is expected to fail: Fatalf
// records the message and ends the goroutine as t.Fatalf does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func expectFatal(t *testing.T, f func(tb testing.TB)) string {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

func TestNameIsUniqueToTheTestAndRemovedWhenItEnds(t *testing.T) {
	var path string
	t.Run("sub/test", func(t *testing.T) {
		name := testutil.Name(t, "a")
		ok, err := filepath.Match(testutil.Pattern(t), name)
		require.NoError(t, err)
		require.True(t, ok, "%q does not match %q", name, testutil.Pattern(t))
		require.Contains(t, name, fmt.Sprint(os.Getpid()))
		require.NotEqual(t, name, testutil.Name(t, "b"))
		path = filepath.Join(shm.Dir, name)
		require.NoError(t, os.WriteFile(path, nil, 0o600))
	})
	_, err := os.Stat(path)
	require.True(t, os.IsNotExist(err), "left behind: %v", err)
}

func TestWaitChildFailsAtOnceWhenTheChildEnds(t *testing.T) {
	p := testutil.Start(t, failAtOnce, struct{}{})
	msg := expectFatal(t, func(tb testing.TB) {
		testutil.WaitChild(tb, p, func() bool { return false })
	})
	require.Contains(t, msg, "ended before it was ready")
	require.Contains(t, msg, "never ready")
}

func TestWaitWordSeesAFlagSetByAChildThatExited(t *testing.T) {
	seg := testutil.Anonymous(t, 4096)
	obj, err := seg.Create(shm.Spec{Name: "word", Kind: shm.KindBytes, Size: 8}, nil)
	require.NoError(t, err)
	p := testutil.Start(t, setWord, seg)
	require.NoError(t, p.Join())
	testutil.WaitWord(t, obj.Uint32(0), p)
}

func TestEventuallySeesAnotherGoroutinesFlag(t *testing.T) {
	var flag atomic.Bool
	go flag.Store(true)
	require.True(t, testutil.Eventually(flag.Load))
	testutil.WaitUntil(t, flag.Load, "the flag")
}
