package procs_test

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gate holds a Start inside its argument's encoding until released.
type gate struct{ inside, release chan struct{} }

func (g gate) GobEncode() ([]byte, error) {
	if g.inside != nil {
		close(g.inside)
		<-g.release
	}
	return []byte{0}, nil
}

func (*gate) GobDecode([]byte) error { return nil }

type echoArg struct {
	Gate gate
	C    *procs.Conn
	ID   int
}

// echoID sends its ID back over the connection it was given.
var echoID = procs.Register("echo-id", func(a echoArg) (struct{}, error) {
	defer a.C.Close()
	return struct{}{}, a.C.Send(a.ID)
})

// While one Start is encoding its argument, another Start runs to the end
// and a Conn encoded elsewhere joins neither: each child gets its own
// descriptor and nothing else.
func TestConcurrentStartsExportOnlyTheirOwnDescriptors(t *testing.T) {
	a1, b1, err := procs.Pipe(true)
	require.NoError(t, err)
	defer a1.Close()
	a2, b2, err := procs.Pipe(true)
	require.NoError(t, err)
	defer a2.Close()
	a3, b3, err := procs.Pipe(true)
	require.NoError(t, err)
	defer a3.Close()
	defer b3.Close()

	g := gate{inside: make(chan struct{}), release: make(chan struct{})}
	type started struct {
		p   *procs.Process
		err error
	}
	first := make(chan started, 1)
	go func() {
		p, err := procs.Start(echoID, echoArg{Gate: g, C: b1, ID: 1})
		first <- started{p, err}
	}()
	<-g.inside

	p2, err := procs.Start(echoID, echoArg{C: b2, ID: 2})
	require.NoError(t, err)
	b2.Close()
	got, err := procs.RecvValue[int](a2)
	require.NoError(t, err)
	assert.Equal(t, 2, got)
	require.NoError(t, p2.Join())

	// Not inside any Start: a descriptor number would mean nothing to a reader.
	err = gob.NewEncoder(new(bytes.Buffer)).Encode(echoArg{C: b3, ID: 3})
	assert.ErrorIs(t, err, shm.ErrNotExporting)

	close(g.release)
	s := <-first
	require.NoError(t, s.err)
	b1.Close()
	got, err = procs.RecvValue[int](a1)
	require.NoError(t, err)
	assert.Equal(t, 1, got)
	require.NoError(t, s.p.Join())
}

// Starts on many goroutines at once: each child gets its own connection.
func TestManyConcurrentStartsEachGetTheirOwnConn(t *testing.T) {
	const n = 6
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- func() error {
				mine, theirs, err := procs.Pipe(true)
				if err != nil {
					return err
				}
				defer mine.Close()
				p, err := procs.Start(echoID, echoArg{C: theirs, ID: i})
				theirs.Close()
				if err != nil {
					return err
				}
				got, err := procs.RecvValue[int](mine)
				if jerr := p.Join(); err == nil {
					err = jerr
				}
				if err == nil && got != i {
					err = fmt.Errorf("child %d answered %d", i, got)
				}
				return err
			}()
		}()
	}
	for range n {
		assert.NoError(t, <-errs)
	}
}
