// Command jobrunner is a job runner that goes wrong, for trying shmctl
// (its README session was made with it): it creates the named segment
// given as its argument, with queues, a lock, an array, a value, a
// semaphore and an event; one worker is killed while it holds the results
// lock, another sleeps on a queue nobody writes to, and the program never
// cleans up. Run it in the background, look with shmctl, kill it, and let
// shmctl gc remove what it left.
//
//	go run ./cmd/shmctl/internal/jobrunner jobs &
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

var updater = procs.Register("updater", func(name string) (int, error) {
	seg, err := shm.Open(name)
	if err != nil {
		return 0, err
	}
	mu, err := semaphore.OpenMutex(seg, "results-lock")
	if err != nil {
		return 0, err
	}
	if err := mu.Lock(); err != nil {
		return 0, err
	}
	ev, err := semaphore.OpenEvent(seg, "locked")
	if err != nil {
		return 0, err
	}
	ev.Set()
	blockForever() // killed mid-update
	return 0, nil
})

var replier = procs.Register("replier", func(name string) (int, error) {
	seg, err := shm.Open(name)
	if err != nil {
		return 0, err
	}
	q, err := ringqueue.Open(seg, "replies")
	if err != nil {
		return 0, err
	}
	_, err = q.Get(make([]byte, 256)) // nobody ever replies
	return 0, err
})

func main() {
	procs.Main()
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: jobrunner SEGMENT-NAME")
		os.Exit(2)
	}
	name := os.Args[1]
	seg, err := shm.Create(name, 1<<20)
	check(err)
	tasks, err := ringqueue.New(seg, "tasks", ringqueue.Options{Capacity: 64, SlotSize: 128})
	check(err)
	for i := range 5 {
		check(tasks.Put(fmt.Appendf(nil, "task %d", i)))
	}
	_, err = ringqueue.New(seg, "replies", ringqueue.Options{Capacity: 16, SlotSize: 256})
	check(err)
	_, err = semaphore.NewMutex(seg, "results-lock")
	check(err)
	_, err = array.New[float64](seg, "results", 1000)
	check(err)
	_, err = value.New[int64](seg, "processed", 17)
	check(err)
	_, err = semaphore.NewSemaphore(seg, "slots", 4)
	check(err)
	locked, err := semaphore.NewEvent(seg, "locked")
	check(err)

	u, err := procs.Start(updater, name)
	check(err)
	check(locked.Wait())
	check(u.Kill())
	_ = u.Join()
	_, err = procs.Start(replier, name, procs.WithDaemon(true))
	check(err)
	fmt.Println("pid", os.Getpid(), "updater", u.Pid(), "killed holding results-lock")
	blockForever()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// blockForever blocks until the process is killed. A bare select{} would
// not do: with every goroutine parked, the runtime reports a deadlock and
// exits, and the process would die before it is killed.
func blockForever() {
	for {
		time.Sleep(time.Hour)
	}
}
