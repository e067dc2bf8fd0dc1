package protocol

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handshake runs both sides over a socket pair and returns their errors.
func handshake(t *testing.T, serverKey, clientKey []byte) (serverErr, clientErr error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	deadline := time.Now().Add(10 * time.Second)
	require.NoError(t, a.SetDeadline(deadline))
	require.NoError(t, b.SetDeadline(deadline))
	done := make(chan error, 1)
	go func() {
		err := ServerHandshake(a, serverKey)
		a.Close() // as the server does: a refused peer is hung up on
		done <- err
	}()
	clientErr = ClientHandshake(b, clientKey)
	b.Close()
	return <-done, clientErr
}

func TestHandshakeWithTheSameKeySucceedsBothWays(t *testing.T) {
	s, c := handshake(t, []byte("secret"), []byte("secret"))
	assert.NoError(t, s)
	assert.NoError(t, c)
}

func TestHandshakeWithAWrongKeyFailsWithErrAuthOnBothSides(t *testing.T) {
	s, c := handshake(t, []byte("secret"), []byte("guess"))
	assert.ErrorIs(t, s, ErrAuth)
	assert.ErrorIs(t, c, ErrAuth)
}

func TestAnswerChallengeRefusesLegacyAndGarbageChallenges(t *testing.T) {
	for name, msg := range map[string][]byte{
		"legacy md5": append([]byte(challenge), bytes.Repeat([]byte{1}, 20)...),
		"short":      append([]byte(challenge+digestTag), 1, 2, 3),
		"garbage":    []byte("HELLO"),
	} {
		var in bytes.Buffer
		require.NoError(t, writeMessage(&in, msg))
		err := AnswerChallenge(&rw{r: &in, w: &bytes.Buffer{}}, []byte("k"))
		assert.ErrorIs(t, err, ErrAuth, name)
	}
}

func TestHandshakeMessageLengthIsBoundedBeforeAllocation(t *testing.T) {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 1<<31)
	_, err := readMessage(bytes.NewReader(hdr[:]))
	assert.ErrorIs(t, err, ErrAuth)
}

// TestAnswerMatchesPythonsHMAC pins the answer to Python 3.12's
// _create_response: "{sha256}" + HMAC-SHA256(key, "{sha256}" + nonce).
func TestAnswerMatchesPythonsHMAC(t *testing.T) {
	nonce := bytes.Repeat([]byte{0x42}, NonceSize)
	var in bytes.Buffer
	require.NoError(t, writeMessage(&in, append([]byte(challenge+digestTag), nonce...)))
	require.NoError(t, writeMessage(&in, []byte(welcome)))
	var out bytes.Buffer
	require.NoError(t, AnswerChallenge(&rw{r: &in, w: &out}, []byte("key")))
	answer, err := readMessage(&out)
	require.NoError(t, err)
	// python3 -c 'import hmac;print(hmac.new(b"key", b"{sha256}"+b"\x42"*40, "sha256").hexdigest())'
	assert.Equal(t, digestTag, string(answer[:len(digestTag)]))
	assert.Equal(t, "d5ac59c143a25b5716376e85a9f744bdab08966073461fb1b0c90ac0ba8dbaf1", hex.EncodeToString(answer[len(digestTag):]))
}

type rw struct {
	r *bytes.Buffer
	w *bytes.Buffer
}

func (x *rw) Read(p []byte) (int, error)  { return x.r.Read(p) }
func (x *rw) Write(p []byte) (int, error) { return x.w.Write(p) }
