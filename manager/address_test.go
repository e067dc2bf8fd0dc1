package manager

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAddressForms(t *testing.T) {
	for in, want := range map[string][2]string{
		"@x":               {"unix", "@x"},
		"unix:@x":          {"unix", "@x"},
		"/tmp/s.sock":      {"unix", "/tmp/s.sock"},
		"unix:/tmp/s.sock": {"unix", "/tmp/s.sock"},
		"unix:///tmp/s":    {"unix", "/tmp/s"},
		"tcp://:0":         {"tcp", "127.0.0.1:0"}, // loopback unless told otherwise
		":5000":            {"tcp", "127.0.0.1:5000"},
		"tcp://0.0.0.0:1":  {"tcp", "0.0.0.0:1"},
		"localhost:7":      {"tcp", "localhost:7"},
		"tcp://[::1]:9":    {"tcp", "[::1]:9"},
	} {
		n, a, err := parseAddress(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, [2]string{n, a}, in)
	}
	for _, bad := range []string{"nonsense", "http://x:1", "unix:", "@", "tcp://nohost"} {
		_, _, err := parseAddress(bad)
		assert.ErrorIs(t, err, ErrInvalid, bad)
	}
	assert.Equal(t, "tcp://127.0.0.1:5", canonical("127.0.0.1:5"))
	assert.Equal(t, "unix:@m", canonical("@m"))
}

func TestDefaultListenerIsAnAbstractSocketAndTCPBindsLoopback(t *testing.T) {
	l, err := Listen("")
	require.NoError(t, err)
	defer l.Close()
	assert.Regexp(t, `^unix:@multiproc-manager-\d+-[0-9a-f]{16}$`, Addr(l.Addr()))

	l2, err := Listen("tcp://:0")
	require.NoError(t, err)
	defer l2.Close()
	assert.Regexp(t, `^tcp://127\.0\.0\.1:\d+$`, Addr(l2.Addr()))
}

func TestSocketFileIsRemovedWhenTheServerStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.sock")
	ts := startServer(t, path, Options{})
	m := ts.connect(t)
	_, err := m.Stats()
	require.NoError(t, err)
	_, err = os.Stat(path)
	require.NoError(t, err)
	ts.Shutdown()
	<-ts.done
	ts.done <- nil // for the cleanup's check
	_, err = os.Stat(path)
	assert.True(t, os.IsNotExist(err), "the socket file is gone: %v", err)
}

func TestServerAndDialRequireAnAuthkey(t *testing.T) {
	_, err := NewServer(Options{})
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = Connect("@nowhere", nil)
	assert.ErrorIs(t, err, ErrInvalid)
}
