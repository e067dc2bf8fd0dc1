package shm_test

import (
	"os"
	"testing"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An Export collects what its own goroutine encodes, and nothing that
// other goroutines encode meanwhile, inside or outside Exports of their own.
func TestExportCollectsOnlyItsOwnGoroutinesHandles(t *testing.T) {
	mine, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer mine.Detach()
	theirs, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer theirs.Detach()
	stray, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer stray.Detach()
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()

	inside, release := make(chan struct{}), make(chan struct{})
	type result struct {
		segs  []*shm.Segment
		files []*os.File
		err   error
	}
	done := make(chan result, 1)
	go func() {
		segs, files, err := shm.Export(func() error {
			if _, err := mine.GobEncode(); err != nil {
				return err
			}
			close(inside)
			<-release // the other goroutines encode while this Export runs
			_, err := shm.ExportFile(f)
			return err
		})
		done <- result{segs, files, err}
	}()
	<-inside

	// Another goroutine's Export runs to completion meanwhile: it does not
	// wait for the first, and sees only its own.
	segs, files, err := shm.Export(func() error {
		_, err := theirs.GobEncode()
		return err
	})
	require.NoError(t, err)
	require.Len(t, segs, 1)
	assert.Equal(t, theirs.ID(), segs[0].ID())
	assert.Empty(t, files)
	for _, s := range segs {
		require.NoError(t, s.Detach())
	}
	// Encodings outside any Export join none.
	_, err = stray.GobEncode()
	require.NoError(t, err)
	_, err = shm.ExportFile(f)
	assert.ErrorIs(t, err, shm.ErrNotExporting)

	close(release)
	r := <-done
	require.NoError(t, r.err)
	require.Len(t, r.segs, 1)
	assert.Equal(t, mine.ID(), r.segs[0].ID())
	require.Len(t, r.files, 1)
	for _, s := range r.segs {
		require.NoError(t, s.Detach())
	}
	for _, f := range r.files {
		require.NoError(t, f.Close())
	}
}

// An Export inside another's encode collects for itself; the outer one
// goes on collecting after it returns.
func TestNestedExportCollectsForItself(t *testing.T) {
	outer, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer outer.Detach()
	inner, err := shm.Anonymous(4096)
	require.NoError(t, err)
	defer inner.Detach()
	var innerSegs []*shm.Segment
	segs, _, err := shm.Export(func() error {
		var err error
		innerSegs, _, err = shm.Export(func() error {
			_, err := inner.GobEncode()
			return err
		})
		if err != nil {
			return err
		}
		_, err = outer.GobEncode()
		return err
	})
	require.NoError(t, err)
	require.Len(t, innerSegs, 1)
	assert.Equal(t, inner.ID(), innerSegs[0].ID())
	require.Len(t, segs, 1)
	assert.Equal(t, outer.ID(), segs[0].ID())
	for _, s := range append(segs, innerSegs...) {
		require.NoError(t, s.Detach())
	}
}

// A handle on an anonymous segment that reaches a process without its
// descriptor fails to decode with an error that says how to pass one.
func TestUnattachedAnonymousSegmentErrorNamesTheFix(t *testing.T) {
	a, err := shm.Anonymous(10)
	require.NoError(t, err)
	b, err := shm.EncodeRef(a, "", 0)
	require.NoError(t, err)
	require.NoError(t, a.Detach())
	var back shm.Segment
	err = back.GobDecode(b)
	assert.ErrorIs(t, err, shm.ErrNotAttached)
	assert.Contains(t, err.Error(), "procs.Start argument, a Conn.Send on a duplex pipe or a pool task's argument")
	assert.Contains(t, err.Error(), "named segment")
}

// An encode that panics (a GobEncode of the caller's) unbinds its Export:
// later encodings on the same goroutine are outside any export again.
func TestExportThatPanicsLeavesNoExportBehind(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	require.Panics(t, func() {
		_, _, _ = shm.Export(func() error {
			_, err := shm.ExportFile(w)
			require.NoError(t, err)
			panic("encode failed")
		})
	})
	_, err = shm.ExportFile(w)
	require.ErrorIs(t, err, shm.ErrNotExporting)
}
