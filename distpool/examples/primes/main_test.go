package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary serve as the example's hosts and workers.
func TestMain(m *testing.M) {
	procs.Main()
	code := m.Run()
	if left := procs.ActiveChildren(); len(left) > 0 {
		for _, p := range left {
			os.Stderr.WriteString("left running: " + p.Name() + "\n")
			_ = p.Kill()
		}
		code = max(code, 1)
	}
	os.Exit(code)
}

func TestPrimesOnTwoHostsOverTheEmbeddedServer(t *testing.T) {
	var bar bytes.Buffer
	n, err := run("", "", 300_000, 10_000, &bar)
	require.NoError(t, err)
	require.Equal(t, 25997, n) // π(300000)
	require.Contains(t, bar.String(), "30/30")
}

func TestPrimesRefusesBadBounds(t *testing.T) {
	_, err := run("", "", 1, 10, &bytes.Buffer{})
	require.Error(t, err)
	_, err = run("", "", 100, 0, &bytes.Buffer{})
	require.Error(t, err)
}
