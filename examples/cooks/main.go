// Command cooks runs producers and consumers over a joinable queue: cooks
// (processes) put dishes on the counter, eaters (daemon processes) take
// them and mark each one done. The main process waits on the queue's Join
// — until every dish put has been eaten — and leaves: the eaters, still
// waiting for more, are daemons and die with it (Python's JoinableQueue
// with daemon consumers).
//
//	go run ./examples/cooks
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

const (
	cooks         = 3
	dishesPerCook = 5
	eaters        = 2
)

var menu = []string{"paella", "ramen", "pierogi", "tagine", "risotto", "pho", "goulash"}

// A dish is fixed-size, so the queue carries it as plain bytes.
type dish struct {
	Cook, Number int32
}

func (d dish) String() string {
	return fmt.Sprintf("%s #%d.%d", menu[int(d.Cook*7+d.Number)%len(menu)], d.Cook, d.Number)
}

type cookArg struct {
	ID      int32
	Counter *ringqueue.Joinable[dish]
}

type eaterArg struct {
	ID      int
	Counter *ringqueue.Joinable[dish]
	Eaten   *value.Value[int64] // how many dishes have been eaten, in all
}

var (
	cook = procs.Register("cooks-cook", func(a cookArg) (struct{}, error) {
		for n := range int32(dishesPerCook) {
			d := dish{Cook: a.ID, Number: n + 1}
			if err := a.Counter.Put(d); err != nil {
				return struct{}{}, err
			}
			fmt.Printf("cook %d   puts %s on the counter\n", a.ID, d)
		}
		return struct{}{}, nil
	})

	// eat never returns by itself: it is a daemon, it waits for dishes
	// until the main process ends.
	eat = procs.Register("cooks-eater", func(a eaterArg) (struct{}, error) {
		for {
			d, err := a.Counter.Get()
			if err != nil {
				return struct{}{}, err
			}
			time.Sleep(time.Millisecond) // chewing
			fmt.Printf("eater %d eats %s\n", a.ID, d)
			a.Eaten.Add(1)
			// Done after the work: Join returns only when every dish is eaten.
			if err := a.Counter.TaskDone(); err != nil {
				return struct{}{}, err
			}
		}
	})
)

func main() {
	procs.Main() // first: in a cook or an eater, this runs its function
	if _, _, err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cooks:", err)
		os.Exit(1)
	}
	// Returning ends the process, and the daemon eaters with it.
}

// run cooks and eats; it returns the number of dishes eaten and the eaters,
// still running (daemons), to the caller.
func run(out io.Writer) (int64, []*procs.Process, error) {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		return 0, nil, err
	}
	defer seg.Detach()
	counter, err := ringqueue.NewJoinable[dish](seg, "counter", ringqueue.Options{Capacity: 4})
	if err != nil {
		return 0, nil, err
	}
	eaten, err := value.New[int64](seg, "eaten", 0)
	if err != nil {
		return 0, nil, err
	}

	var hungry []*procs.Process
	for i := range eaters {
		p, err := procs.Start(eat, eaterArg{ID: i + 1, Counter: counter, Eaten: eaten},
			procs.WithDaemon(true), procs.WithStdout(out), procs.WithName(fmt.Sprintf("eater-%d", i+1)))
		if err != nil {
			return 0, hungry, err
		}
		hungry = append(hungry, p)
	}
	var kitchen []*procs.Process
	for i := range cooks {
		p, err := procs.Start(cook, cookArg{ID: int32(i + 1), Counter: counter},
			procs.WithStdout(out), procs.WithName(fmt.Sprintf("cook-%d", i+1)))
		if err != nil {
			return 0, hungry, err
		}
		kitchen = append(kitchen, p)
	}
	for _, p := range kitchen {
		if err := p.Join(); err != nil {
			return 0, hungry, err
		}
	}
	fmt.Fprintf(out, "main: the cooks are done; waiting until every dish is eaten\n")
	if err := counter.Join(); err != nil {
		return 0, hungry, err
	}
	n := eaten.Load()
	fmt.Fprintf(out, "main: all %d dishes eaten; leaving (the eaters are daemons: they go with me)\n", n)
	return n, hungry, nil
}
