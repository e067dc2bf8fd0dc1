package array_test

import (
	"errors"
	"fmt"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
)

func Example() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	a, err := array.FromSlice(seg, "scores", []int64{10, 20, 30})
	if err != nil {
		panic(err)
	}
	a.Add(0, 5) // lock-free
	_ = a.Update(func(s []int64) { s[2] = s[0] + s[1] })
	fmt.Println(a.Slice(), a.Len())
	// Output: [15 20 35] 3
}

type squareArgs struct {
	A     *array.Array[float64]
	First int
	Step  int
}

// squareEvery runs in a child process: it squares every Step-th element of
// the shared array in place, starting at First.
var squareEvery = procs.Register("array-example-square", func(a squareArgs) (int, error) {
	s := a.A.Slice() // the same memory the parent sees
	n := 0
	for i := a.First; i < len(s); i += a.Step {
		s[i] *= s[i]
		n++
	}
	return n, nil
})

// Two children work on disjoint elements of one array through their
// zero-copy views; the parent sees their writes.
func Example_processes() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	a, err := array.FromSlice(seg, "xs", []float64{1, 2, 3, 4, 5, 6})
	if err != nil {
		panic(err)
	}
	var ps []*procs.Process
	for first := range 2 {
		p, err := procs.Start(squareEvery, squareArgs{A: a, First: first, Step: 2})
		if err != nil {
			panic(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := p.Join(); err != nil {
			panic(err)
		}
	}
	fmt.Println(a.Slice())
	// Output: [1 4 9 16 25 36]
}

func ExampleRawArray() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	hist, _ := array.NewRaw[uint32](seg, "hist", 4)
	for _, x := range []int{0, 3, 3, 1, 3} {
		hist.Add(x, 1)
	}
	fmt.Println(hist.Slice())
	fmt.Println(hist.CompareAndSwap(3, 3, 0), hist.Load(3))

	_, err = array.OpenRaw[int32](seg, "hist")
	fmt.Println(errors.Is(err, shm.ErrTypeMismatch))
	// Output:
	// [1 1 0 3]
	// true 0
	// true
}

func ExampleInspect() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	_, _ = array.New[float32](seg, "xs", 100)
	obj, _ := seg.Lookup("xs")
	info, _ := array.Inspect(obj)
	fmt.Println(info)
	// Output: array of 100 4-byte elements, lock unlocked
}
