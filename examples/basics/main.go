// Command basics shows the life of a process: start, join, name, pid,
// is-alive, exit codes, terminate and daemons — Python's
// multiprocessing.Process, with procs.
//
//	go run ./examples/basics
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/multiproc-go/multiproc/procs"
)

// Functions a child can run are registered at package level, so the child
// (this same binary, started again) has them before main runs.
var (
	square = procs.Register("square", func(x int) (int, error) { return x * x, nil })

	whoami = procs.Register("whoami", func(struct{}) (procs.Info, error) { return procs.Current(), nil })

	fails = procs.Register("fails", func(why string) (int, error) { return 0, errors.New(why) })

	exits = procs.Register("exits", func(code int) (int, error) { os.Exit(code); return 0, nil })

	panics = procs.Register("panics", func(msg string) (int, error) { panic(msg) })

	// sleeper stands for a long job: it runs until something ends it.
	sleeper = procs.Register("sleeper", func(struct{}) (int, error) {
		time.Sleep(time.Hour)
		return 0, nil
	})
)

func main() {
	procs.Main() // first: in a child, this runs the registered function and exits
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "basics:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	fmt.Fprintln(out, "== start and join")
	p, err := procs.Start(square, 7)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "started %s, pid %d, alive: %v\n", p.Name(), p.Pid(), p.IsAlive())
	if err := p.Join(); err != nil {
		return err
	}
	r, err := procs.Result[int](p)
	if err != nil {
		return err
	}
	code, _ := p.ExitCode()
	fmt.Fprintf(out, "square(7) = %d, exit code %d, alive: %v\n", r, code, p.IsAlive())

	fmt.Fprintln(out, "== names")
	info, err := procs.Run(whoami, struct{}{}, procs.WithName("worker-a"))
	if err != nil {
		return err
	}
	me := procs.Current()
	fmt.Fprintf(out, "child calls itself %q; its parent is us: %v; we are %q\n",
		info.Name, info.PPid == me.Pid, me.Name)

	fmt.Fprintln(out, "== exit codes")
	for _, c := range []struct {
		what  string
		start func() (*procs.Process, error)
	}{
		{"returns an error", func() (*procs.Process, error) { return procs.Start(fails, "out of coffee") }},
		{"calls os.Exit(3)", func() (*procs.Process, error) { return procs.Start(exits, 3) }},
		// The panic's stack goes to the child's stderr: silence it here.
		{"panics", func() (*procs.Process, error) { return procs.Start(panics, "oops", procs.WithStderr(io.Discard)) }},
	} {
		p, err := c.start()
		if err != nil {
			return err
		}
		err = p.Join()
		var ee *procs.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("%s: want an *ExitError, got %v", c.what, err)
		}
		fmt.Fprintf(out, "%-17s exit code %d, panicked: %v, message: %q\n", c.what+":", ee.Code, ee.Panicked, ee.Message)
	}

	fmt.Fprintln(out, "== terminate")
	p, err = procs.Start(sleeper, struct{}{}, procs.WithName("sleeper"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s alive: %v\n", p.Name(), p.IsAlive())
	if err := p.Terminate(); err != nil {
		return err
	}
	err = p.JoinTimeout(time.Minute)
	code, _ = p.ExitCode()
	fmt.Fprintf(out, "after Terminate: alive: %v, exit code %d (%v)\n", p.IsAlive(), code, err)

	fmt.Fprintln(out, "== daemon")
	d, err := procs.Start(sleeper, struct{}{}, procs.WithName("daemon"), procs.WithDaemon(true))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s pid %d, daemon: %v, alive: %v\n", d.Name(), d.Pid(), d.Daemon(), d.IsAlive())
	fmt.Fprintf(out, "active children: %d; leaving without joining it: it dies with this process\n", len(procs.ActiveChildren()))
	return nil
}
