package python_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/ringqueue"
)

// streamCount is how many messages the stream tests send each way: the
// issue's million with MULTIPROC_XLANG_FULL=1, fewer by default so that
// go test ./... stays quick on two cores.
func streamCount() int {
	if os.Getenv("MULTIPROC_XLANG_FULL") != "" {
		return 1_000_000
	}
	return 100_000
}

var streamModes = []struct {
	name  string
	mode  ringqueue.Mode
	batch int // Python side: 1 uses put/get, more put_many/get_many
}{
	{"MPMC", ringqueue.MPMC, 1},
	{"SPSC", ringqueue.SPSC, 64},
}

// TestGoToPython: a Go producer, a Python consumer; every message arrives
// once, in order, intact (the child checks each against what it must be,
// and reports the count and a CRC of the stream).
func TestGoToPython(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			n := streamCount()
			seg, name := namedSeg(t, 1<<20)
			q, err := ringqueue.New(seg, "q", ringqueue.Options{Mode: m.mode, Capacity: 1024, SlotSize: 64})
			require.NoError(t, err)
			p := startPy(t, "consume", name, "q", strconv.Itoa(n), strconv.Itoa(m.batch))
			var crc uint32
			buf := make([]byte, 0, 64)
			for i := range n {
				msg := message(buf, uint64(i))
				crc = crc32.Update(crc, crc32.IEEETable, msg)
				if err := q.PutTimeout(msg, testutil.Patience); err != nil {
					t.Fatalf("message %d: %v; python stderr: %s", i, err, p.errb.String())
				}
			}
			require.NoError(t, q.Close())
			p.expect(t, fmt.Sprintf("ok %d %d", n, crc))
			require.NoError(t, p.cmd.Wait(), p.errb.String())
		})
	}
}

// TestPythonToGo: a Python producer, a Go consumer, the same checks.
func TestPythonToGo(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			n := streamCount()
			seg, name := namedSeg(t, 1<<20)
			q, err := ringqueue.New(seg, "q", ringqueue.Options{Mode: m.mode, Capacity: 1024, SlotSize: 64})
			require.NoError(t, err)
			p := startPy(t, "produce", name, "q", strconv.Itoa(n), strconv.Itoa(m.batch))
			var crc uint32
			buf := make([]byte, 64)
			want := make([]byte, 0, 64)
			got := 0
			for {
				k, err := q.GetTimeout(buf, testutil.Patience)
				if errors.Is(err, ringqueue.ErrClosed) {
					break
				}
				if err != nil {
					t.Fatalf("message %d: %v; python stderr: %s", got, err, p.errb.String())
				}
				w := message(want, uint64(got))
				if !bytes.Equal(buf[:k], w) {
					t.Fatalf("message %d: got %x, want %x", got, buf[:k], w)
				}
				crc = crc32.Update(crc, crc32.IEEETable, buf[:k])
				got++
			}
			require.Equal(t, n, got)
			p.expect(t, fmt.Sprintf("ok %d %d", n, crc))
			require.NoError(t, p.cmd.Wait(), p.errb.String())
		})
	}
}
