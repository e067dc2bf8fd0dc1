package manager_test

import (
	"fmt"
	"log"

	"github.com/multiproc-go/multiproc/manager"
	"github.com/multiproc-go/multiproc/procs"
)

// lockedCount is what each child gets: a lock and a counter, both living
// in the manager's server, both crossing as proxies.
type lockedCount struct {
	Lock  *manager.Mutex
	Count *manager.Value[int]
}

// countUnderLock adds one to the counter 100 times, reading and writing
// it under the lock: without it, two children could read the same count.
var countUnderLock = procs.Register("manager.example.countUnderLock", func(a lockedCount) (struct{}, error) {
	defer a.Lock.Detach()
	defer a.Count.Detach()
	for range 100 {
		if err := a.Lock.Lock(); err != nil {
			return struct{}{}, err
		}
		n, err := a.Count.Get()
		if err == nil {
			err = a.Count.Set(n + 1)
		}
		if uerr := a.Lock.Unlock(); err == nil {
			err = uerr
		}
		if err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

// A lock in the manager's server (Python's manager.Lock()) guarding a
// read-modify-write of a counter there, by three child processes.
func ExampleNewMutex() {
	m, err := manager.Start(manager.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	lock, err := manager.NewMutex(m)
	if err != nil {
		log.Fatal(err)
	}
	count, err := manager.NewValue(m, 0)
	if err != nil {
		log.Fatal(err)
	}
	var children []*procs.Process
	for range 3 {
		p, err := procs.Start(countUnderLock, lockedCount{lock, count})
		if err != nil {
			log.Fatal(err)
		}
		children = append(children, p)
	}
	for _, p := range children {
		if err := p.Join(); err != nil {
			log.Fatal(err)
		}
	}
	n, _ := count.Get()
	fmt.Println(n)
	// Output: 300
}
