package procs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/multiproc-go/multiproc/procs"
)

// cube is registered at package level, so that the workers (this program,
// started again) find it.
var cube = procs.Register("example-cube", func(x int) (int, error) { return x * x * x, nil })

func ExampleNewPool() {
	pool, err := procs.NewPool(2)
	if err != nil {
		panic(err)
	}
	defer pool.Terminate() // as Python's "with Pool() as pool:"

	one, _ := procs.Apply(pool, cube, 3)
	fmt.Println(one)

	all, _ := procs.Map(pool, cube, []int{1, 2, 3, 4}, 1)
	fmt.Println(all)

	for r, err := range procs.Imap(pool, cube, slices.Values([]int{5, 6}), 1) {
		fmt.Println(r, err)
	}

	async := procs.ApplyAsync(pool, cube, 10, procs.OnResult(func(r int) { fmt.Println("callback:", r) }))
	r, _ := async.Get()
	fmt.Println(r)
	// Output:
	// 27
	// [1 8 27 64]
	// 125 <nil>
	// 216 <nil>
	// callback: 1000
	// 1000
}

// The bounded forms of a pool call: Python's apply_async(...).get(timeout)
// and map_async(...).get(timeout). A call that gives up drops its tasks
// not yet sent; the pool goes on.
func ExampleMapTimeout() {
	pool, err := procs.NewPool(2)
	if err != nil {
		panic(err)
	}
	defer pool.Terminate()

	all, err := procs.MapTimeout(pool, cube, []int{1, 2, 3}, 1, time.Minute)
	fmt.Println(all, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // given up before it began
	_, err = procs.ApplyContext(ctx, pool, cube, 2)
	fmt.Println(errors.Is(err, context.Canceled))
	// Output:
	// [1 8 27] <nil>
	// true
}
