package main

import (
	"os"
	"strings"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary serve as the example's child.
func TestMain(m *testing.M) {
	procs.Main()
	os.Exit(m.Run())
}

func TestPipeEchoRunsEndToEnd(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	assert.Equal(t, `anything to read before we speak? false
sent "hello", got back "hello"
sent "from", got back "from"
sent "the parent", got back "the parent"
a struct crosses too: {X:3 Y:4}
an 8-byte buffer is too short: the message has 50 bytes
read again with room for it: "raw bytes raw bytes raw bytes raw bytes raw bytes "
we hung up; the child saw EOF after echoing 5 messages
`, out.String())
	assert.Empty(t, procs.ActiveChildren())
}
