package protocol

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The handshake is Python's multiprocessing.connection challenge (3.12 and
// later, the "{sha256}" form), byte for byte, run both ways before anything
// else is read:
//
//	server -> client  "#CHALLENGE#{sha256}" + 40 random bytes
//	client -> server  "{sha256}" + HMAC-SHA256(authkey, "{sha256}" + the 40 bytes)
//	server -> client  "#WELCOME#", or "#FAILURE#" and the server hangs up
//
// then the same with the roles swapped, so each side knows the other holds
// the key (a client cannot be lured into talking to a server without it).
// Each message is a 4-byte big-endian length and the bytes, at most
// MaxAuthMessage of them; the caller bounds the whole exchange with a
// deadline. The key never crosses the wire, and a fresh nonce each time
// makes a recorded answer useless.
const (
	challenge = "#CHALLENGE#"
	welcome   = "#WELCOME#"
	failure   = "#FAILURE#"
	digestTag = "{sha256}"
	// NonceSize is the number of random bytes in a challenge (Python's
	// MESSAGE_LENGTH).
	NonceSize = 40
	// MaxAuthMessage bounds a handshake message (Python reads them with
	// recv_bytes(256)).
	MaxAuthMessage = 256
	minNonce       = 20 // a shorter challenge is refused: too little to guess against
)

// ErrAuth: the peer does not hold the same authkey, or does not speak the
// handshake.
var ErrAuth = errors.New("authentication failed")

// ServerHandshake authenticates the peer, then itself: deliver a
// challenge, answer one (Python's Listener.accept).
func ServerHandshake(rw io.ReadWriter, key []byte) error {
	if err := DeliverChallenge(rw, key); err != nil {
		return err
	}
	return AnswerChallenge(rw, key)
}

// ClientHandshake authenticates itself, then the peer: answer a
// challenge, deliver one (Python's Client).
func ClientHandshake(rw io.ReadWriter, key []byte) error {
	if err := AnswerChallenge(rw, key); err != nil {
		return err
	}
	return DeliverChallenge(rw, key)
}

// DeliverChallenge sends a challenge and checks the peer's answer. On a
// wrong answer it tells the peer "#FAILURE#" and returns ErrAuth (wrapped).
func DeliverChallenge(rw io.ReadWriter, key []byte) error {
	msg := make([]byte, len(digestTag)+NonceSize)
	copy(msg, digestTag)
	if _, err := rand.Read(msg[len(digestTag):]); err != nil {
		return fmt.Errorf("protocol: challenge: %w", err)
	}
	if err := writeMessage(rw, append([]byte(challenge), msg...)); err != nil {
		return err
	}
	resp, err := readMessage(rw)
	if err != nil {
		return err
	}
	want := append([]byte(digestTag), mac(key, msg)...)
	// Constant time: a timing difference would tell an attacker how many
	// leading bytes of a forged answer were right.
	if !hmac.Equal(resp, want) {
		_ = writeMessage(rw, []byte(failure))
		return fmt.Errorf("protocol: the peer's answer to our challenge is wrong: %w", ErrAuth)
	}
	return writeMessage(rw, []byte(welcome))
}

// AnswerChallenge answers the peer's challenge and reads its verdict:
// ErrAuth (wrapped) when the peer refuses the answer or sent no proper
// challenge.
func AnswerChallenge(rw io.ReadWriter, key []byte) error {
	m, err := readMessage(rw)
	if err != nil {
		return err
	}
	msg, ok := bytes.CutPrefix(m, []byte(challenge))
	if !ok {
		return fmt.Errorf("protocol: expected a challenge, got %d other bytes: %w", len(m), ErrAuth)
	}
	nonce, ok := bytes.CutPrefix(msg, []byte(digestTag))
	if !ok || len(nonce) < minNonce {
		// Python before 3.12 sends a bare 20-byte nonce for HMAC-MD5: refused.
		return fmt.Errorf("protocol: challenge without a %s nonce of %d+ bytes: %w", digestTag, minNonce, ErrAuth)
	}
	if err := writeMessage(rw, append([]byte(digestTag), mac(key, msg)...)); err != nil {
		return err
	}
	verdict, err := readMessage(rw)
	if err != nil {
		return err
	}
	if string(verdict) != welcome {
		return fmt.Errorf("protocol: the peer refused our answer: %w", ErrAuth)
	}
	return nil
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

func writeMessage(w io.Writer, b []byte) error {
	buf := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	if _, err := w.Write(append(buf, b...)); err != nil {
		return fmt.Errorf("protocol: handshake: %w", err)
	}
	return nil
}

// readMessage reads one handshake message. A length field above
// MaxAuthMessage (Python's signed header reads as negative beyond 2^31) is
// refused before anything is allocated.
func readMessage(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("protocol: handshake: %w", noEOF(err))
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxAuthMessage {
		return nil, fmt.Errorf("protocol: handshake message of %d bytes (limit %d): %w", n, MaxAuthMessage, ErrAuth)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("protocol: handshake: %w", noEOF(err))
	}
	return b, nil
}
