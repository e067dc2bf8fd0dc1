package python_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

// point is tests/xlang_child.py's Point: a struct wider than a word, so
// its Value goes through the seqlock.
type point struct {
	X   int64
	Y   float64
	Tag [4]uint8
}

// requirePyError checks that the child refused with the named exception.
func requirePyError(t *testing.T, class string, stderr string, err error) {
	t.Helper()
	require.Error(t, err, "python accepted it")
	require.True(t, strings.HasPrefix(stderr, class+":"), "want %s, python said: %s", class, stderr)
}

// TestValueTypes: a Go Value opened from Python with the same layout reads
// and writes it; another layout is refused at open with TypeMismatch.
func TestValueTypes(t *testing.T) {
	seg, name := namedSeg(t, 1<<16)
	v, err := value.New(seg, "n", int64(41))
	require.NoError(t, err)
	out, stderr, err := runPy(t, "open", name, "value", "n", "int64")
	require.NoError(t, err, stderr)
	require.Equal(t, "ok 41", out)
	_, stderr, err = runPy(t, "open", name, "value", "n", "float64")
	requirePyError(t, "TypeMismatch", stderr, err)
	_, stderr, err = runPy(t, "open", name, "value", "n", "int32")
	requirePyError(t, "TypeMismatch", stderr, err)
	_, stderr, err = runPy(t, "open", name, "queue", "n", "-")
	requirePyError(t, "KindMismatch", stderr, err)
	require.EqualValues(t, 41, v.Load())

	pv, err := value.New(seg, "p", point{X: 7, Y: 2.5, Tag: [4]uint8{'a', 'b', 'c', 'd'}})
	require.NoError(t, err)
	out, stderr, err = runPy(t, "point", name, "p", "Point")
	require.NoError(t, err, stderr)
	require.Equal(t, "ok 7 2.5 abcd", out)
	require.Equal(t, point{X: 8, Y: 2.5, Tag: [4]uint8{'a', 'b', 'c', 'd'}}, pv.Load(), "python's store")
	_, stderr, err = runPy(t, "point", name, "p", "PointSwapped")
	requirePyError(t, "TypeMismatch", stderr, err)
}

// TestArray: Python sees a Go array zero-copy and updates it under its lock.
func TestArray(t *testing.T) {
	seg, name := namedSeg(t, 1<<16)
	a, err := array.New[int32](seg, "a", 10)
	require.NoError(t, err)
	for i := range 10 {
		a.Slice()[i] = int32(i)
	}
	out, stderr, err := runPy(t, "array", name, "a")
	require.NoError(t, err, stderr)
	require.Equal(t, "ok 10 45", out)
	for i := range 10 {
		require.EqualValues(t, 2*i, a.Slice()[i])
	}
}

// TestLockedCounter: Go and Python add to one Value under its lock at the
// same time; no increment is lost.
func TestLockedCounter(t *testing.T) {
	const n = 20000
	seg, name := namedSeg(t, 1<<16)
	v, err := value.New(seg, "c", int64(0))
	require.NoError(t, err)
	p := startPy(t, "count", name, "-", "c", strconv.Itoa(n))
	for range n {
		require.NoError(t, v.Update(func(x *int64) { *x++ }))
	}
	p.expect(t, "ok")
	require.NoError(t, p.cmd.Wait(), p.errb.String())
	require.EqualValues(t, 2*n, v.Load())
}

// TestForeignFiles: files that are no segment, or a segment damaged in its
// header, are refused with the error Go gives, never a crash.
func TestForeignFiles(t *testing.T) {
	seg, name := namedSeg(t, 1<<16)
	good, err := os.ReadFile(filepath.Join(shm.Dir, name))
	require.NoError(t, err)
	_ = seg

	write := func(t *testing.T, b []byte) string {
		n := testutil.Name(t, "forged")
		require.NoError(t, os.WriteFile(filepath.Join(shm.Dir, n), b, 0o600))
		return n
	}
	withChecksum := func(b []byte) []byte {
		// FNV-1a of the first 128 bytes, at 128 (shm/layout.go).
		h := uint64(0xcbf29ce484222325)
		for _, c := range b[:128] {
			h = (h ^ uint64(c)) * 0x100000001b3
		}
		binary.NativeEndian.PutUint64(b[128:], h)
		return b
	}
	clone := func() []byte { return append([]byte(nil), good...) }

	cases := []struct {
		name  string
		bytes []byte
		class string
	}{
		{"text", []byte("#!/bin/sh\necho this is no segment\n"), "NotSegment"},
		{"empty", nil, "NotSegment"},
		{"header-only-magic", good[:64], "Corrupt"},
		{"checksum", func() []byte { b := clone(); b[44]++; return b }(), "Corrupt"},
		{"version", func() []byte { b := clone(); b[8] = 2; return withChecksum(b) }(), "VersionMismatch"},
		{"truncated", good[:len(good)-4096], "Corrupt"},
		{"participants", func() []byte { b := clone(); binary.NativeEndian.PutUint32(b[44:], 5000); return withChecksum(b) }(), "Corrupt"},
		{"reserved", func() []byte { b := clone(); b[110] = 1; return withChecksum(b) }(), "Corrupt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := write(t, c.bytes)
			_, stderr, err := runPy(t, "open", n, "value", "x", "int64")
			requirePyError(t, c.class, stderr, err)
		})
	}
}

// TestTypedQueue: a Go Typed[point] queue carries raw structs to Python and
// back; a Python type of another layout is refused at open.
func TestTypedQueue(t *testing.T) {
	seg, name := namedSeg(t, 1<<16)
	in, err := ringqueue.NewTyped[point](seg, "in", ringqueue.Options{Capacity: 4})
	require.NoError(t, err)
	out, err := ringqueue.NewTyped[point](seg, "out", ringqueue.Options{Capacity: 4})
	require.NoError(t, err)
	require.NoError(t, in.Put(point{X: 21, Y: -1.5, Tag: [4]uint8{'w', 'x', 'y', 'z'}}))
	res, stderr, err := runPy(t, "typed_echo", name, "in", "out", "Point")
	require.NoError(t, err, stderr)
	require.Equal(t, "ok 21 -1.5 wxyz", res)
	got, err := out.GetTimeout(testutil.Patience)
	require.NoError(t, err)
	require.Equal(t, point{X: 42, Y: -1.5, Tag: [4]uint8{'w', 'x', 'y', 'z'}}, got)
	_, stderr, err = runPy(t, "typed_echo", name, "in", "out", "PointSwapped")
	requirePyError(t, "TypeMismatch", stderr, err)
}
