package manager_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"sync"

	"github.com/multiproc-go/multiproc/manager"
	"github.com/multiproc-go/multiproc/procs"
)

// addFruit runs in a child process: the Dict arrives as its argument.
var addFruit = procs.Register("manager.example.addFruit", func(d *manager.Dict[string, int]) (int, error) {
	defer d.Detach()
	if err := d.Set("plums", 7); err != nil {
		return 0, err
	}
	return d.Len()
})

// A server in a child process, a Dict on it, and a second child using the
// Dict through the proxy it was given.
func Example() {
	m, err := manager.Start(manager.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	d, err := manager.NewDict[string, int](m)
	if err != nil {
		log.Fatal(err)
	}
	_ = d.Set("apples", 3)
	_ = d.Set("pears", 5)

	n, err := procs.Run(addFruit, d)
	if err != nil {
		log.Fatal(err)
	}
	items, _ := d.Items()
	fmt.Println(n, items)
	// Output: 3 [{apples 3} {pears 5} {plums 7}]
}

// A server in this process on TCP loopback, and a client that knows only
// its address, the key and an object's name.
func ExampleServe() {
	l, err := manager.Listen("tcp://127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	key := []byte("a secret shared by both programs")
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = manager.Serve(ctx, l, manager.Options{Authkey: key}) })
	defer func() { stop(); wg.Wait() }()

	// Elsewhere — another program, another machine — with the address:
	m, err := manager.Connect(manager.Addr(l.Addr()), key)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	q, _ := manager.NewQueue[string](m, 0, manager.Named("jobs"))
	_ = q.Put("resize cat.png")

	// ... and a wrong key:
	_, err = manager.Connect(manager.Addr(l.Addr()), []byte("guess"))
	fmt.Println(strings.Contains(err.Error(), "authentication failed"))

	job, _ := q.Get()
	fmt.Println(job)
	// Output:
	// true
	// resize cat.png
}

// Tally is a registered type: its exported methods are callable remotely.
type Tally struct {
	mu     sync.Mutex
	counts map[string]int
}

func (t *Tally) Add(word string, n int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counts[word] += n
	return t.counts[word]
}

var tallyType = manager.Register("example.Tally", func() *Tally { return &Tally{counts: map[string]int{}} })

func ExampleRegister() {
	m, err := manager.Start(manager.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	p, err := manager.NewObject(m, tallyType, nil)
	if err != nil {
		log.Fatal(err)
	}
	_, _ = p.Call(context.Background(), "Add", "go", 2)
	n, err := manager.Call[int](context.Background(), p, "Add", "go", 3)
	fmt.Println(n, err)
	// Output: 5 <nil>
}
