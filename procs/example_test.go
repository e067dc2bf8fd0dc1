package procs_test

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/multiproc-go/multiproc/procs"
)

// exclaim runs in a child process. It is registered at package level, so
// the child (this program, started again) has it before procs.Main looks
// it up. A real program's main begins with procs.Main(); in this package's
// tests, TestMain does.
var exclaim = procs.Register("example-exclaim", func(s string) (string, error) {
	if s == "" {
		return "", errors.New("nothing to exclaim")
	}
	return strings.ToUpper(s) + "!", nil
})

// Start a child, wait for it, take its result; a function's error comes
// back as the child's exit.
func ExampleStart() {
	p, err := procs.Start(exclaim, "hello", procs.WithName("exclaimer"))
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Join(); err != nil {
		log.Fatal(err)
	}
	r, err := procs.Result[string](p)
	fmt.Println(r, err)

	p, err = procs.Start(exclaim, "")
	if err != nil {
		log.Fatal(err)
	}
	err = p.Join()
	var exit *procs.ExitError
	if errors.As(err, &exit) {
		fmt.Println(exit.Code, exit.Message)
	}
	// Output:
	// HELLO! <nil>
	// 1 nothing to exclaim
}

// Run is Start, Join and Result in one call.
func ExampleRun() {
	r, err := procs.Run(exclaim, "goodbye")
	fmt.Println(r, err)
	// Output: GOODBYE! <nil>
}
