package bench

import (
	"fmt"
	"testing"

	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/stretchr/testify/require"
)

// Each benchmark's round, run with a few messages by `go test`: the same
// code as the benchmarks (children, gates, checks), minus the timing, so
// that a broken benchmark fails the tests rather than the comparison.

const roundN = 500

func TestRingRoundsDeliverEveryMessageInOrder(t *testing.T) {
	for _, mode := range []ringqueue.Mode{ringqueue.SPSC, ringqueue.MPMC} {
		for _, batch := range []int{0, ringBatch} {
			for _, sz := range []msgSize{msgSizes[0], msgSizes[len(msgSizes)-1]} {
				t.Run(fmt.Sprintf("%s/batch%d/%s", mode, batch, sz.name), func(t *testing.T) {
					ringRound(t, roundN, mode, sz, batch)
				})
			}
		}
	}
}

func TestTypedRoundsDeliverEveryValueInOrder(t *testing.T) {
	for _, sz := range msgSizes {
		for _, gob := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gob=%v", sz.name, gob), func(t *testing.T) { typedRoundFor(t, roundN, sz, gob) })
		}
	}
}

func TestChanRoundGoroutinesDeliverEveryMessageInOrder(t *testing.T) {
	for _, sz := range msgSizes {
		chanRound(t, roundN, sz)
	}
}

func TestStreamRoundsDeliverEveryFrameInOrder(t *testing.T) {
	for _, k := range streamKinds {
		for _, sz := range []msgSize{msgSizes[0], msgSizes[len(msgSizes)-1]} {
			t.Run(k.name+"/"+sz.name, func(t *testing.T) { streamRound(t, roundN, k, sz) })
		}
	}
}

func TestLatencyRoundsTimeEveryRoundTrip(t *testing.T) {
	check := func(t *testing.T, ns []int64) {
		require.Len(t, ns, roundN)
		for _, d := range ns {
			require.Positive(t, d)
		}
	}
	t.Run("ring", func(t *testing.T) { check(t, ringLatencyRound(t, roundN, ringqueue.WaitYield)) })
	t.Run("socketpair", func(t *testing.T) { check(t, socketLatencyRound(t, roundN)) })
}

func TestSharedRoundsCountEveryOperation(t *testing.T) {
	for _, op := range []string{"mutex", "value-add", "value-update"} {
		t.Run(op, func(t *testing.T) { sharedRound(t, 2*roundN+1, op) })
	}
}

func TestScaleRoundsConsumeEveryMessage(t *testing.T) {
	for _, pc := range [][2]int{{1, 1}, {2, 3}} {
		t.Run(fmt.Sprintf("%dx%d", pc[0], pc[1]), func(t *testing.T) { scaleRound(t, roundN+3, pc[0], pc[1]) })
	}
	t.Run("chan-4x4", func(t *testing.T) { chanScaleRound(t, roundN+3, 4, 4) })
}
