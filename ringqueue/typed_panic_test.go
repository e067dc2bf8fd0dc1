package ringqueue

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// tqTouchy is a gob-encoded type whose GobDecode panics on the message
// "boom": a stand-in for a decoder with a bug, or for a message another
// process wrote that a decoder does not expect.
type tqTouchy struct{ S string }

func (v tqTouchy) GobEncode() ([]byte, error) { return []byte(v.S), nil }

func (v *tqTouchy) GobDecode(b []byte) error {
	if string(b) == "boom" {
		panic("tqTouchy: cannot take it")
	}
	v.S = string(b)
	return nil
}

func TestTypedGetPanickingGobDecodeIsAnErrorAndTheQueueGoesOn(t *testing.T) {
	for _, mode := range []Mode{MPMC, SPSC} {
		t.Run(mode.String(), func(t *testing.T) {
			q := newTypedT[tqTouchy](t, Options{Capacity: 4, Mode: mode})
			require.NoError(t, q.Put(tqTouchy{"boom"}))
			require.NoError(t, q.Put(tqTouchy{"fine"}))

			_, err := q.TryGet()
			require.ErrorIs(t, err, ErrDecode)
			require.True(t, strings.Contains(err.Error(), "cannot take it"), "the panic's value is in the error: %v", err)
			var pe *DecodePanicError
			require.True(t, errors.As(err, &pe), "%v", err)
			require.Equal(t, "tqTouchy: cannot take it", pe.Value)

			// The bad message was consumed and its slot freed: the next
			// Get gets the next value, and the ring has all its room.
			v, err := q.TryGet()
			require.NoError(t, err)
			require.Equal(t, "fine", v.S)
			for range q.Cap() {
				require.NoError(t, q.TryPut(tqTouchy{"again"}))
			}
		})
	}
}

func TestTypedGetBatchPanickingGobDecodeSkipsOnlyThatValue(t *testing.T) {
	for _, mode := range []Mode{MPMC, SPSC} {
		t.Run(mode.String(), func(t *testing.T) {
			q := newTypedT[tqTouchy](t, Options{Capacity: 8, Mode: mode})
			n, err := q.PutBatch([]tqTouchy{{"a"}, {"boom"}, {"b"}})
			require.NoError(t, err)
			require.Equal(t, 3, n)
			dst := make([]tqTouchy, 4)
			n, err = q.TryGetBatch(dst)
			require.ErrorIs(t, err, ErrDecode)
			require.Equal(t, 2, n, "the values around the bad one are delivered")
			require.Equal(t, []string{"a", "b"}, []string{dst[0].S, dst[1].S})
			require.NoError(t, q.Put(tqTouchy{"c"}))
			v, err := q.TryGet()
			require.NoError(t, err)
			require.Equal(t, "c", v.S)
		})
	}
}
