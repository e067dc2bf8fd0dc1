//go:build linux

package manager

import (
	"bytes"
	"encoding/gob"
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A proxy's bytes must not hand out its server: they may go into a queue,
// a file or a log. Encoded for a child (inside procs.Start) or not, they
// carry no key.
func TestEncodedProxyCarriesNoKey(t *testing.T) {
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	d, err := NewDict[string, int](m)
	require.NoError(t, err)

	b, err := d.GobEncode()
	require.NoError(t, err)
	assert.False(t, bytes.Contains(b, ts.key), "the authkey is in a proxy's bytes")

	segs, files, err := shm.Export(func() error {
		b, err = d.GobEncode()
		return err
	})
	require.NoError(t, err)
	for _, s := range segs {
		_ = s.Detach()
	}
	for _, f := range files {
		_ = f.Close()
	}
	assert.False(t, bytes.Contains(b, ts.key), "the authkey is in the bytes of a proxy encoded for a child")
	assert.Len(t, files, 1, "the key goes to the child beside the bytes")
}

// The wire form of a proxy as it was: with the key in it.
type keyedWireRef struct {
	Address string
	Authkey []byte
	ID      uint64
	Type    string
	Ticket  uint64
}

// Bytes from elsewhere must not make this process dial the address they
// name with a key: a relay there could pass the key's proof on to the real
// server. Decoding fails, and nothing connects.
func TestDecodingAProxyDialsNoAddressItHoldsNoKeyFor(t *testing.T) {
	ts := startServer(t, "", Options{})
	ts.connect(t) // this process holds a key, for ts's address
	l, err := Listen("")
	require.NoError(t, err)
	defer l.Close()

	var buf bytes.Buffer
	require.NoError(t, gob.NewEncoder(&buf).Encode(keyedWireRef{Address: Addr(l.Addr()), Authkey: ts.key, ID: 1, Type: typeDict, Ticket: 1}))
	var d Dict[string, int]
	err = d.GobDecode(buf.Bytes())
	assert.ErrorIs(t, err, ErrAuth)

	// Nobody dialled l: its queue of connections is empty (the listening
	// socket is non-blocking: accept says EAGAIN).
	rc, err := l.(*net.UnixListener).SyscallConn()
	require.NoError(t, err)
	var aerr error
	require.NoError(t, rc.Control(func(fd uintptr) {
		var nfd int
		nfd, _, aerr = syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if aerr == nil {
			syscall.Close(nfd)
		}
	}))
	assert.True(t, errors.Is(aerr, syscall.EAGAIN), "the decoder connected to the address the bytes named (accept: %v)", aerr)
}

// proxyBytesJob carries a proxy as plain bytes (as a queue or a file
// would), and the key only if the program hands it over.
type proxyBytesJob struct {
	Proxy   []byte
	Address string
	Key     []byte
}

var decodeProxyBytes = procs.Register("manager.test.decodeProxyBytes", func(j proxyBytesJob) (int, error) {
	var v Value[int]
	err := v.GobDecode(j.Proxy)
	if j.Key == nil {
		if errors.Is(err, ErrAuth) {
			return -1, nil
		}
		return 0, errors.New("decoded without a key")
	}
	if !errors.Is(err, ErrAuth) {
		return 0, errors.New("decoded before Authorize")
	}
	if err := Authorize(j.Address, j.Key); err != nil {
		return 0, err
	}
	if err := v.GobDecode(j.Proxy); err != nil {
		return 0, err
	}
	defer v.Detach()
	return v.Get()
})

func TestProxyBytesReachAnotherProcessOnlyWithItsKey(t *testing.T) {
	noChildren(t)
	ts := startServer(t, "", Options{})
	m := ts.connect(t)
	v, err := NewValue(m, 42)
	require.NoError(t, err)
	for _, key := range [][]byte{nil, ts.key} {
		b, err := v.GobEncode() // outside a start: no key travels
		require.NoError(t, err)
		p, err := procs.Start(decodeProxyBytes, proxyBytesJob{Proxy: b, Address: ts.addr, Key: key})
		require.NoError(t, err)
		got, err := procs.Result[int](waitFor(t, p))
		require.NoError(t, err)
		if key == nil {
			assert.Equal(t, -1, got, "ErrAuth without the key")
		} else {
			assert.Equal(t, 42, got)
		}
	}
}
