package manager

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Anybody on the machine may dial Start's rendezvous socket. Three peers
// that connect before the child and never say a word used to be
// authenticated one after the other, each holding Start for its whole
// HandshakeTimeout, so Start ran out of time; each must cost only itself.
func TestStartSurvivesSilentRendezvousPeers(t *testing.T) {
	var silent []net.Conn
	testHookRendezvous = func(address string) {
		// Connected before the child starts: they are first in the queue.
		for range 3 {
			nc, err := net.Dial("unix", strings.TrimPrefix(address, "unix:"))
			require.NoError(t, err)
			silent = append(silent, nc)
		}
	}
	defer func() {
		testHookRendezvous = nil
		for _, nc := range silent {
			nc.Close()
		}
	}()
	// Three silent peers at 15 s each outlast Start's 30 s one at a time.
	m, err := Start(Options{HandshakeTimeout: 15 * time.Second})
	require.NoError(t, err)
	defer m.Close()
	require.Len(t, silent, 3)
	v, err := NewValue(m, 5)
	require.NoError(t, err)
	got, err := v.Get()
	require.NoError(t, err)
	assert.Equal(t, 5, got)
	// The silent peers were hung up on when Start returned.
	// (They got a challenge, then the end: a timeout means still open.)
	for _, nc := range silent {
		_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := io.ReadAll(nc)
		assert.NoError(t, err, "a silent peer's socket was left open")
	}
}
