package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary serve as the example's workers.
func TestMain(m *testing.M) {
	procs.Main()
	os.Exit(m.Run())
}

func TestCopyTreeCopiesEveryFileAndReportsTheFailures(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	want := map[string][]byte{}
	for d := range 3 {
		dir := filepath.Join(src, fmt.Sprintf("d%d", d), "deeper")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for f := range 20 {
			b := bytes.Repeat([]byte{byte(d*20 + f)}, (d*20+f)*1500)
			rel := filepath.Join(fmt.Sprintf("d%d", d), "deeper", fmt.Sprintf("f%d", f))
			require.NoError(t, os.WriteFile(filepath.Join(src, rel), b, 0o640))
			want[rel] = b
		}
	}
	require.NoError(t, os.MkdirAll(filepath.Join(src, "empty-dir"), 0o755))
	// Unreadable: a link to nothing. Existing target: already in dst.
	require.NoError(t, os.Symlink(filepath.Join(root, "missing"), filepath.Join(src, "d0", "broken")))
	existing := filepath.Join("d1", "deeper", "f3")
	require.NoError(t, os.MkdirAll(filepath.Join(dst, "d1", "deeper"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dst, existing), []byte("keep me"), 0o600))

	var bar bytes.Buffer
	sum, err := run(src, dst, 2, &bar)
	require.NoError(t, err)

	assert.Equal(t, 61, sum.Files)
	assert.Equal(t, 59, sum.Copied)
	require.Len(t, sum.Failures, 2)
	assert.Equal(t, filepath.Join("d0", "broken"), sum.Failures[0].Path)
	assert.Contains(t, sum.Failures[0].Err.Error(), "no such file")
	assert.Equal(t, existing, sum.Failures[1].Path)
	assert.Contains(t, sum.Failures[1].Err.Error(), "file exists")

	for rel, b := range want {
		got, err := os.ReadFile(filepath.Join(dst, rel))
		require.NoError(t, err, rel)
		if rel == existing {
			assert.Equal(t, "keep me", string(got), "an existing target is never overwritten")
			continue
		}
		require.True(t, bytes.Equal(b, got), rel)
		fi, err := os.Stat(filepath.Join(dst, rel))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	}
	assert.DirExists(t, filepath.Join(dst, "empty-dir"))
	assert.Contains(t, bar.String(), "100%", "the bar reached the end")
	assert.Contains(t, bar.String(), "61/61")

	var out strings.Builder
	sum.print(&out)
	assert.Contains(t, out.String(), "copied 59 of 61 files")
	assert.Empty(t, procs.ActiveChildren())
}
