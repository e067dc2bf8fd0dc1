package procs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/multiproc-go/multiproc/procs"
)

// shout answers every string it receives in capitals, until EOF.
var shout = procs.Register("example-shout", func(c *procs.Conn) (struct{}, error) {
	defer c.Close()
	for {
		s, err := procs.RecvValue[string](c)
		if err == io.EOF {
			return struct{}{}, nil
		}
		if err != nil {
			return struct{}{}, err
		}
		if err := c.Send(strings.ToUpper(s)); err != nil {
			return struct{}{}, err
		}
	}
})

func ExamplePipe() {
	parent, child, err := procs.Pipe(true)
	if err != nil {
		panic(err)
	}
	p, err := procs.Start(shout, child) // the child gets its own copy of this end
	if err != nil {
		panic(err)
	}
	child.Close() // ours is not needed: close it, or the child never sees EOF

	for _, s := range []string{"hello", "pipe"} {
		_ = parent.Send(s)
		reply, _ := procs.RecvValue[string](parent)
		fmt.Println(reply)
	}
	parent.Close() // the child's Recv returns io.EOF and it returns
	fmt.Println(p.Join())
	// Output:
	// HELLO
	// PIPE
	// <nil>
}

// A bounded receive: Python's poll(timeout) then recv(). Nothing is sent
// yet, so the first gives up with ErrTimeout and takes nothing; the reply
// to the message sent after it arrives whole.
func ExampleConn_RecvTimeout() {
	parent, child, err := procs.Pipe(true)
	if err != nil {
		panic(err)
	}
	p, err := procs.Start(shout, child)
	if err != nil {
		panic(err)
	}
	child.Close()

	var s string
	err = parent.RecvTimeout(&s, 10*time.Millisecond)
	fmt.Println(errors.Is(err, procs.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	fmt.Println(errors.Is(parent.TryRecv(&s), procs.ErrEmpty))

	_ = parent.Send("late")
	if err := parent.RecvTimeout(&s, time.Minute); err != nil {
		panic(err)
	}
	fmt.Println(s)
	parent.Close()
	fmt.Println(p.JoinTimeout(time.Minute))
	// Output:
	// true true
	// true
	// LATE
	// <nil>
}
