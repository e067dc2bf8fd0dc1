package protocol

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// Bodies. Every integer is an unsigned varint (encoding/binary's Uvarint);
// every byte string is a varint length followed by the bytes. A body must
// be consumed exactly: trailing bytes are malformed.
//
//	Request  object id, method (a byte string of 1..MaxMethod bytes of UTF-8),
//	         argument count, the arguments (byte strings)
//	Reply    result count, the results (byte strings)
//	Error    error code, message (a byte string of at most MaxMessage bytes)
//	Cancel   empty
//
// Arguments and results are opaque here; package manager gives them meaning.
const (
	// MaxMethod bounds a method name.
	MaxMethod = 255
	// MaxMessage bounds an error message; longer ones are cut when encoded.
	MaxMessage = 4096
)

// A Request is a call of Method on the object with id Object.
type Request struct {
	Object uint64
	Method string
	// Args alias the frame body they were decoded from.
	Args [][]byte
}

// AppendRequest appends a request frame with id to dst.
func AppendRequest(dst []byte, id uint64, req Request) []byte {
	start := len(dst)
	dst = appendHeader(dst, TypeRequest, id)
	dst = binary.AppendUvarint(dst, req.Object)
	dst = appendString(dst, req.Method)
	return finish(appendList(dst, req.Args), start)
}

// DecodeRequest decodes a request body. The arguments alias body.
func DecodeRequest(body []byte) (Request, error) {
	d := decoder{b: body}
	var req Request
	req.Object = d.uvarint()
	m := d.bytes(MaxMethod)
	req.Args = d.list()
	if err := d.end("request"); err != nil {
		return Request{}, err
	}
	if len(m) == 0 || !utf8.Valid(m) {
		return Request{}, fmt.Errorf("protocol: request: bad method name %q: %w", m, ErrMalformed)
	}
	req.Method = string(m)
	return req, nil
}

// AppendReply appends a reply frame with id carrying results to dst.
func AppendReply(dst []byte, id uint64, results [][]byte) []byte {
	start := len(dst)
	return finish(appendList(appendHeader(dst, TypeReply, id), results), start)
}

// DecodeReply decodes a reply body. The results alias body.
func DecodeReply(body []byte) ([][]byte, error) {
	return DecodeReplyInto(nil, body)
}

// DecodeReplyInto is DecodeReply that keeps the results in dst's storage
// when it holds them.
func DecodeReplyInto(dst [][]byte, body []byte) ([][]byte, error) {
	d := decoder{b: body}
	res := d.listInto(dst)
	return res, d.end("reply")
}

// AppendError appends an error frame with id, code and msg (cut to
// MaxMessage bytes) to dst.
func AppendError(dst []byte, id uint64, code uint64, msg string) []byte {
	if len(msg) > MaxMessage {
		msg = msg[:MaxMessage]
	}
	start := len(dst)
	dst = binary.AppendUvarint(appendHeader(dst, TypeError, id), code)
	return finish(appendString(dst, msg), start)
}

// DecodeError decodes an error body.
func DecodeError(body []byte) (code uint64, msg string, err error) {
	d := decoder{b: body}
	code = d.uvarint()
	m := d.bytes(MaxMessage)
	if err := d.end("error"); err != nil {
		return 0, "", err
	}
	return code, string(m), nil
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func appendList(dst []byte, list [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(list)))
	for _, b := range list {
		dst = append(binary.AppendUvarint(dst, uint64(len(b))), b...)
	}
	return dst
}

// decoder reads a body, remembering the first problem; after one, every
// read returns zero values, so callers check once at the end.
type decoder struct {
	b       []byte
	err     bool
	problem string
}

func (d *decoder) fail(problem string) {
	if !d.err {
		d.err, d.problem = true, problem
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	if d.err {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes reads a byte string of at most max bytes, aliasing the body. The
// length is checked against what remains before anything is sliced.
func (d *decoder) bytes(max int) []byte {
	n := d.uvarint()
	if d.err {
		return nil
	}
	if n > uint64(len(d.b)) || n > uint64(max) {
		d.fail(fmt.Sprintf("byte string of %d bytes (%d left, limit %d)", n, len(d.b), max))
		return nil
	}
	s := d.b[:n:n] // capped: appending to one argument must not overwrite the next
	d.b = d.b[n:]
	return s
}

// list reads a count and that many byte strings. Each string takes at least
// one byte (its length), so a count above the bytes left is refused before
// the slice is allocated.
func (d *decoder) list() [][]byte { return d.listInto(nil) }

func (d *decoder) listInto(dst [][]byte) [][]byte {
	n := d.uvarint()
	if d.err {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(fmt.Sprintf("%d items in %d bytes", n, len(d.b)))
		return nil
	}
	var list [][]byte
	if n <= uint64(cap(dst)) {
		list = dst[:n]
	} else {
		list = make([][]byte, n)
	}
	for i := range list {
		list[i] = d.bytes(len(d.b))
	}
	if d.err {
		return nil
	}
	return list
}

func (d *decoder) end(body string) error {
	if !d.err && len(d.b) != 0 {
		d.fail(fmt.Sprintf("%d trailing bytes", len(d.b)))
	}
	if d.err {
		return fmt.Errorf("protocol: %s body: %s: %w", body, d.problem, ErrMalformed)
	}
	return nil
}
