package procs_test

import (
	"fmt"
	"slices"

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
