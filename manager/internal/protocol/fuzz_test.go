package protocol

import (
	"bytes"
	"io"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame reader and the body
// decoders, as a hostile peer would. Nothing may panic, no frame may exceed
// the limit, and whatever decodes must encode back to the same bytes. The
// seed corpus in testdata/fuzz/FuzzReadFrame runs in plain `go test`;
// `go test -fuzz FuzzReadFrame ./manager/internal/protocol` explores more.
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendRequest(nil, 1, Request{Object: 3, Method: "Get", Args: [][]byte{[]byte("k")}}))
	f.Add(AppendReply(nil, 2, [][]byte{[]byte("v"), nil}))
	f.Add(AppendError(nil, 3, 4, "boom"))
	f.Add(AppendCancel(nil, 4))
	f.Add([]byte{0, 0, 0, 9, 1, 0, 0, 0, 0, 0, 0, 0, 1})
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			before := r.Len()
			fr, err := ReadFrame(r, limit)
			if err != nil {
				if err == io.EOF && before != 0 {
					t.Fatalf("io.EOF with %d bytes unread", before)
				}
				return
			}
			consumed := data[len(data)-before : len(data)-r.Len()]
			if len(fr.Body) > limit {
				t.Fatalf("body of %d bytes passed a limit of %d", len(fr.Body), limit)
			}
			var again []byte
			switch fr.Type {
			case TypeRequest:
				req, err := DecodeRequest(fr.Body)
				if err != nil {
					continue
				}
				again = AppendRequest(nil, fr.ID, req)
			case TypeReply:
				res, err := DecodeReply(fr.Body)
				if err != nil {
					continue
				}
				again = AppendReply(nil, fr.ID, res)
			case TypeError:
				code, msg, err := DecodeError(fr.Body)
				if err != nil {
					continue
				}
				again = AppendError(nil, fr.ID, code, msg)
			case TypeCancel:
				if len(fr.Body) != 0 {
					continue
				}
				again = AppendCancel(nil, fr.ID)
			}
			// Varints have one shortest form but decode longer ones too, so
			// compare decoded meaning, not bytes, when the lengths differ.
			if !bytes.Equal(again, consumed) {
				f2, err := ReadFrame(bytes.NewReader(again), limit)
				if err != nil || f2.Type != fr.Type || f2.ID != fr.ID {
					t.Fatalf("re-encoded frame does not read back: %v", err)
				}
			}
		}
	})
}

// FuzzAnswerChallenge plays a hostile server against the client side of
// the handshake: it must fail cleanly, never panic, never accept.
func FuzzAnswerChallenge(f *testing.F) {
	var seed bytes.Buffer
	_ = writeMessage(&seed, append([]byte(challenge+digestTag), bytes.Repeat([]byte{1}, NonceSize)...))
	_ = writeMessage(&seed, []byte(welcome))
	f.Add(seed.Bytes())
	f.Add([]byte{0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.NewBuffer(data)
		err := AnswerChallenge(&rw{r: in, w: &bytes.Buffer{}}, []byte("key"))
		// Only a real challenge followed by "#WELCOME#" is accepted.
		if err == nil && !bytes.Contains(data, []byte(welcome)) {
			t.Fatalf("accepted without a welcome")
		}
	})
}
