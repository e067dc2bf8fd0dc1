package manager

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func objects(t *testing.T, ts *testServer) int { t.Helper(); return ts.Stats().Objects }

func TestObjectGoesWithItsLastProxy(t *testing.T) {
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	d, err := NewDict[string, int](m)
	require.NoError(t, err)
	d2 := decodeAs[Dict[string, int]](t, d)
	assert.Equal(t, 1, objects(t, ts))
	require.NoError(t, d.Detach())
	require.NoError(t, d.Detach(), "closing twice is a no-op")
	assert.ErrorIs(t, d.Set("a", 1), ErrClosed)
	require.NoError(t, d2.Set("a", 1), "the decoded proxy still holds it")
	require.NoError(t, d2.Detach())
	assert.Equal(t, 0, objects(t, ts))
}

func TestClosingAConnectionDropsItsReferences(t *testing.T) {
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	for range 5 {
		_, err := NewQueue[int](m, 0)
		require.NoError(t, err)
	}
	kept, err := NewList[int](ts.connect(t))
	require.NoError(t, err)
	assert.Equal(t, 6, objects(t, ts))
	require.NoError(t, m.Close())
	eventually(t, "references dropped", func() bool { return objects(t, ts) == 1 })
	require.NoError(t, kept.Append(1))
}

func TestNamedObjectOutlivesItsCreator(t *testing.T) {
	ts := startServer(t, "", Options{})
	a := ts.connect(t)
	q, err := NewQueue[string](a, 0, Named("jobs"))
	require.NoError(t, err)
	require.NoError(t, q.Put("job-1"))
	require.NoError(t, a.Close())

	b := ts.connect(t)
	q2, err := NewQueue[string](b, 99, Named("jobs"))
	require.NoError(t, err)
	v, err := q2.Get()
	require.NoError(t, err)
	assert.Equal(t, "job-1", v)
	c, err := q2.Cap()
	require.NoError(t, err)
	assert.Equal(t, 0, c, "creation arguments apply to the creator only")

	_, err = NewDict[string, int](b, Named("jobs"))
	assert.ErrorIs(t, err, ErrType)

	st := ts.Stats()
	assert.Equal(t, 1, st.Named)
	require.NoError(t, b.Unname("jobs"))
	assert.ErrorIs(t, b.Unname("jobs"), ErrNotFound)
	require.NoError(t, q2.Detach())
	// a's references go when the server sees its connection end.
	eventually(t, "the object to go", func() bool { return objects(t, ts) == 0 })
}

func TestTransitTicketKeepsTheObjectUntilAttach(t *testing.T) {
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	v, err := NewValue(m, 42)
	require.NoError(t, err)
	b, err := v.GobEncode()
	require.NoError(t, err)
	require.NoError(t, v.Detach()) // the sender lets go before the receiver attaches
	st := ts.Stats()
	assert.Equal(t, 1, st.Objects)
	assert.Equal(t, 1, st.Transit)

	var got Value[int]
	require.NoError(t, got.GobDecode(b))
	defer got.Detach()
	x, err := got.Get()
	require.NoError(t, err)
	assert.Equal(t, 42, x)
	assert.Equal(t, 0, ts.Stats().Transit, "redeemed")
}

func TestUnredeemedTransitTicketLapses(t *testing.T) {
	ts := startServer(t, "", Options{TransitTTL: 10 * time.Millisecond})
	m := ts.connect(t)
	v, err := NewValue(m, 1)
	require.NoError(t, err)
	b, err := v.GobEncode()
	require.NoError(t, err)
	require.NoError(t, v.Detach())
	eventually(t, "the ticket to lapse", func() bool { return ts.Stats().Objects == 0 })
	var late Value[int]
	assert.ErrorIs(t, late.GobDecode(b), ErrNoObject)
}

func TestUnreachableProxyIsReleased(t *testing.T) {
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	func() {
		_, err := NewDict[int, int](m)
		require.NoError(t, err)
	}()
	eventually(t, "the cleanup to release it", func() bool {
		runtime.GC()
		return objects(t, ts) == 0
	})
}

func TestDecodingAProxyOfAnotherTypeFails(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	q, err := NewQueue[int](m, 0)
	require.NoError(t, err)
	b, err := q.GobEncode()
	require.NoError(t, err)
	var d Dict[int, int]
	assert.ErrorIs(t, d.GobDecode(b), ErrType)
	var jq JoinableQueue[int]
	assert.ErrorIs(t, jq.GobDecode(b), ErrType)
}
