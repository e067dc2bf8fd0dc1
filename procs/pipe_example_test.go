package procs_test

import (
	"fmt"
	"io"
	"strings"

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
