// Command pipe-echo talks to a child over a Pipe: the child echoes every
// message back until the parent hangs up — Python's multiprocessing.Pipe,
// with procs.
//
//	go run ./examples/pipe-echo
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/multiproc-go/multiproc/procs"
)

// A message is what parent and child exchange: text, a struct, or a
// request to echo raw bytes.
type message struct {
	Text  string
	Point *Point
	Raw   []byte
}

// A Point shows that any gob-encodable value crosses, not only strings.
type Point struct{ X, Y int }

// echo runs in the child. Its end of the pipe arrives as its argument. It
// sends back each message as it came: values as values, raw bytes as raw
// bytes. When the parent closes its end, the receive returns io.EOF.
var echo = procs.Register("echo", func(c *procs.Conn) (int, error) {
	defer c.Close()
	for n := 0; ; n++ {
		var msg message
		if err := c.Recv(&msg); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		if msg.Raw != nil {
			// Asked to echo raw bytes: send them as a raw message.
			if err := c.SendBytes(msg.Raw); err != nil {
				return n, err
			}
			continue
		}
		if err := c.Send(msg); err != nil {
			return n, err
		}
	}
})

func main() {
	procs.Main() // first: in the child this runs echo and exits
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pipe-echo:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	parent, child, err := procs.Pipe(true)
	if err != nil {
		return err
	}
	defer parent.Close()
	p, err := procs.Start(echo, child)
	if err != nil {
		return err
	}
	// The child has its own copy of its end. Close ours: while any copy is
	// open, the child would never see EOF.
	child.Close()

	ready, err := parent.Poll(10 * time.Millisecond)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "anything to read before we speak? %v\n", ready)

	for _, text := range []string{"hello", "from", "the parent"} {
		if err := parent.Send(message{Text: text}); err != nil {
			return err
		}
		reply, err := procs.RecvValue[message](parent)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "sent %q, got back %q\n", text, reply.Text)
	}

	if err := parent.Send(message{Point: &Point{3, 4}}); err != nil {
		return err
	}
	if ok, err := parent.Poll(time.Minute); err != nil || !ok {
		return fmt.Errorf("no echo within a minute (%v)", err)
	}
	reply, err := procs.RecvValue[message](parent)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "a struct crosses too: %+v\n", *reply.Point)

	// Raw bytes into a buffer of our own. Too short a buffer is an error
	// that says how long the message is; the message stays queued.
	long := []byte(strings.Repeat("raw bytes ", 5))
	if err := parent.Send(message{Raw: long}); err != nil {
		return err
	}
	buf := make([]byte, 8)
	_, err = parent.RecvBytesInto(buf)
	var short *procs.BufferTooShortError
	if !errors.As(err, &short) {
		return fmt.Errorf("want a too-short buffer, got %v", err)
	}
	fmt.Fprintf(out, "an 8-byte buffer is too short: the message has %d bytes\n", short.Size)
	buf = make([]byte, short.Size)
	n, err := parent.RecvBytesInto(buf)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "read again with room for it: %q\n", buf[:n])

	// Hang up: the child's Recv returns io.EOF, it returns its count.
	parent.Close()
	if err := p.Join(); err != nil {
		return err
	}
	echoed, err := procs.Result[int](p)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "we hung up; the child saw EOF after echoing %d messages\n", echoed)
	return nil
}
