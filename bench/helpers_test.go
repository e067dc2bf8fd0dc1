package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// Unit tests of the harness. The benchmarks themselves are not run by
// `go test`; rounds_test.go runs each benchmark's round with a few
// messages instead.

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1)
	}
	for _, c := range []struct {
		in   []int64
		q    float64
		want int64
	}{
		{nil, 0.5, 0},
		{[]int64{7}, 0.5, 7},
		{[]int64{7}, 0.99, 7},
		{[]int64{1, 2}, 0.5, 1},
		{[]int64{1, 2, 3}, 0.5, 2},
		{hundred, 0.5, 50},
		{hundred, 0.99, 99},
		{hundred, 1, 100},
		{hundred[:10], 0.99, 10},
	} {
		require.Equal(t, c.want, percentile(c.in, c.q), "%v q=%v", c.in, c.q)
	}
}

func TestLatencyPercentilesSortsFirst(t *testing.T) {
	ns := []int64{900, 100, 500, 300, 700, 200, 800, 400, 600, 1000}
	p50, p99 := latencyPercentiles(ns)
	require.Equal(t, int64(500), p50)
	require.Equal(t, int64(1000), p99)
	require.IsNonDecreasing(t, ns)
}

func TestRateIsEventsPerSecond(t *testing.T) {
	require.InDelta(t, 2e6, rate(1000, 500*time.Microsecond), 1e-6)
	require.Zero(t, rate(10, 0))
}

func TestFramesRoundTripThroughAPipe(t *testing.T) {
	r, w, err := blockingPipe()
	require.NoError(t, err)
	defer r.Close()
	sizes := []int{0, 1, 8, 64, 4 << 10, 64 << 10, 8}
	go func() {
		defer w.Close()
		fw := newFrameWriter(w, 64<<10)
		for i, n := range sizes {
			msg := bytes.Repeat([]byte{byte(i + 1)}, n)
			if err := fw.writeFrame(msg); err != nil {
				return
			}
		}
	}()
	fr := newFrameReader(r)
	buf := make([]byte, 64<<10)
	for i, n := range sizes {
		got, err := fr.readFrame(buf)
		require.NoError(t, err)
		require.Equal(t, n, got)
		require.Equal(t, bytes.Repeat([]byte{byte(i + 1)}, n), buf[:got])
	}
	_, err = fr.readFrame(buf)
	require.ErrorIs(t, err, io.EOF)
}

func TestFrameReaderRefusesAFrameLargerThanTheBuffer(t *testing.T) {
	var s bytes.Buffer
	require.NoError(t, newFrameWriter(&s, 100).writeFrame(make([]byte, 100)))
	_, err := newFrameReader(&s).readFrame(make([]byte, 99))
	require.ErrorIs(t, err, errFrameTooLarge)
}

func TestFrameReaderCutFrameIsUnexpectedEOF(t *testing.T) {
	var s bytes.Buffer
	require.NoError(t, newFrameWriter(&s, 100).writeFrame(make([]byte, 100)))
	s.Truncate(50)
	_, err := newFrameReader(&s).readFrame(make([]byte, 100))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestFrameWriterRefusesAPayloadLargerThanItsBuffer(t *testing.T) {
	var s bytes.Buffer
	require.ErrorIs(t, newFrameWriter(&s, 8).writeFrame(make([]byte, 9)), errFrameTooLarge)
	require.Zero(t, s.Len())
}

func TestFrameHeaderIsLittleEndianLength(t *testing.T) {
	var s bytes.Buffer
	require.NoError(t, newFrameWriter(&s, 300).writeFrame(make([]byte, 300)))
	require.Equal(t, uint32(300), binary.LittleEndian.Uint32(s.Bytes()))
	require.Equal(t, frameHeader+300, s.Len())
}

func TestParseFigures(t *testing.T) {
	m, err := parseFigures("msgs/s 315000.5 ns 31746031\n")
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"msgs/s": 315000.5, "ns": 31746031}, m)
	for _, bad := range []string{"", "\n", "msgs/s", "msgs/s x", "a 1 b"} {
		_, err := parseFigures(bad)
		require.Error(t, err, "%q", bad)
	}
}

func TestLastLinesKeepsTheTail(t *testing.T) {
	require.Equal(t, "c\nd", lastLines("a\nb\nc\nd\n", 2))
	require.Equal(t, "a", lastLines("a", 5))
}

func TestPassedFileNilCrossesAsNil(t *testing.T) {
	b, err := passedFile{}.GobEncode()
	require.NoError(t, err)
	var p passedFile
	require.NoError(t, p.GobDecode(b))
	require.Nil(t, p.F)
	require.ErrorIs(t, p.GobDecode([]byte{1, 2}), errBadPassedFile)
}

func TestGateInProcessReadyStartDone(t *testing.T) {
	seg := testutil.Anonymous(t, 4096)
	g, err := newGate(seg, "gate")
	require.NoError(t, err)
	const kids = 3
	var worked atomic.Int32
	errs := make(chan error, kids)
	for range kids {
		go func() {
			g2, err := openGate(seg, "gate")
			if err == nil {
				g2.childReady()
				err = g2.waitStart()
			}
			if err == nil {
				worked.Add(1)
				g2.childDone()
			}
			errs <- err
		}()
	}
	require.NoError(t, g.waitReady(kids, nil))
	require.Zero(t, worked.Load(), "nobody works before the gate opens")
	g.open()
	require.NoError(t, g.waitDone(kids, nil))
	require.Equal(t, int32(kids), worked.Load())
	for range kids {
		require.NoError(t, <-errs)
	}
}

func TestGateWaitGivesUpWhenCheckFails(t *testing.T) {
	g, err := newGate(testutil.Anonymous(t, 4096), "gate")
	require.NoError(t, err)
	boom := errors.New("child died")
	calls := 0
	err = g.waitReady(1, func() error {
		if calls++; calls == 3 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
}

func TestOpenGateRefusesAnObjectTooSmall(t *testing.T) {
	seg := testutil.Anonymous(t, 4096)
	_, err := seg.Create(shm.Spec{Name: "small", Kind: shm.KindBytes, Size: 64}, nil)
	require.NoError(t, err)
	_, err = openGate(seg, "small")
	require.ErrorIs(t, err, shm.ErrCorrupt)
	_, err = openGate(seg, "missing")
	require.Error(t, err)
}

// fakeClock counts timer starts and stops.
type fakeClock struct{ starts, stops int }

func (c *fakeClock) StartTimer() { c.starts++ }
func (c *fakeClock) StopTimer()  { c.stops++ }

func TestPythonScriptsServeRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts Python interpreters, seconds each")
	}
	py, err := findPython()
	if err != nil {
		t.Skipf("no Python: %v", err)
	}
	for _, c := range []struct {
		script string
		args   []string
		units  []string
	}{
		{"throughput.py", []string{"--system", "queue", "--size", "64", "--capacity", "16"}, []string{"msgs/s"}},
		{"throughput.py", []string{"--system", "pipe", "--size", "65536"}, []string{"msgs/s"}},
		{"latency.py", []string{"--size", "64"}, []string{"p50-ns", "p99-ns"}},
		{"lock.py", []string{"--procs", "1"}, []string{"ops/s"}},
		{"lock.py", []string{"--procs", "2"}, []string{"ops/s"}},
		{"value.py", []string{"--procs", "1"}, []string{"ops/s"}},
		{"value.py", []string{"--procs", "2"}, []string{"ops/s"}},
	} {
		t.Run(strings.TrimSuffix(c.script, ".py")+"-"+strings.Join(c.args, "-"), func(t *testing.T) {
			// Interpreter start-up and forking dominate: run side by side.
			t.Parallel()
			srv, err := startPython(py, pythonScript(c.script), c.args...)
			require.NoError(t, err)
			var clock fakeClock
			for _, n := range []int{1, 50} {
				fig, err := srv.run(&clock, n)
				require.NoError(t, err)
				for _, u := range c.units {
					require.Greater(t, fig[u], 0.0, "%s in %v", u, fig)
				}
			}
			require.Equal(t, fakeClock{2, 2}, clock)
			require.NoError(t, srv.close())
		})
	}
}

func TestStartPythonReportsAFailingScript(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts Python interpreters, seconds each")
	}
	py, err := findPython()
	if err != nil {
		t.Skipf("no Python: %v", err)
	}
	_, err = startPython(py, pythonScript("throughput.py"), "--system", "carrier-pigeon")
	require.Error(t, err)
	require.Contains(t, err.Error(), "invalid choice", "the script's stderr is in the error")
}
