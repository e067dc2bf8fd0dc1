package distpool_test

import (
	"context"
	"fmt"

	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/procs"
)

var cube = procs.Register("example-cube", func(x int) (int, error) { return x * x * x, nil })

// A driver and a host on one machine over the embedded server. Across
// machines, the host part runs on each host, against a real server's URL.
func Example() {
	srv, err := distpool.StartServer() // 127.0.0.1, a random token, a temporary store
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect()
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	// The host: two local worker processes fed from the queue.
	ready := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- distpool.Serve(ctx, nc, distpool.ServeQueue("example"), distpool.ServeSlots(2),
			distpool.ServeReady(func() { close(ready) }))
	}()
	<-ready

	// The driver: the generic functions of procs, unchanged.
	pool, err := distpool.NewPool(ctx, nc, distpool.WithQueue("example"))
	if err != nil {
		panic(err)
	}
	cubes, err := procs.Map(pool, cube, []int{1, 2, 3, 4, 5}, 2)
	fmt.Println(cubes, err)
	_ = pool.Close()
	_ = pool.JoinContext(ctx)

	stop()
	fmt.Println(<-served)
	// Output:
	// [1 8 27 64 125] <nil>
	// <nil>
}
