package value_test

import (
	"errors"
	"fmt"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

func Example() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	hits, err := value.New[int64](seg, "hits", 0)
	if err != nil {
		panic(err)
	}
	hits.Add(2)                                  // lock-free
	_ = hits.Update(func(n *int64) { *n *= 10 }) // under the value's lock
	fmt.Println(hits.Load())
	// Output: 20
}

// addTen runs in a child process: the value arrives as a handle and
// re-opens there by name.
var addTen = procs.Register("value-example-add-ten", func(v *value.Value[int64]) (int64, error) {
	for range 10 {
		if err := v.Update(func(n *int64) { *n++ }); err != nil {
			return 0, err
		}
	}
	return v.Load(), nil
})

func Example_processes() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	total, err := value.New[int64](seg, "total", 100)
	if err != nil {
		panic(err)
	}
	var ps []*procs.Process
	for range 3 {
		p, err := procs.Start(addTen, total)
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
	fmt.Println(total.Load())
	// Output: 130
}

// The lock of a Value is Python's get_lock(): hold it across several
// operations. Lock reports a holder that died inside the lock.
func ExampleValue_Lock() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	balance, _ := value.New(seg, "balance", 50.0)
	if err := balance.Lock(); errors.Is(err, semaphore.ErrOwnerDead) {
		// The previous holder died in here: check the data, then vouch for it.
		_ = balance.Mutex().MarkConsistent()
	} else if err != nil {
		panic(err)
	}
	if b := balance.Load(); b >= 20 {
		balance.Store(b - 20)
	}
	_ = balance.Unlock()
	fmt.Println(balance.Load())
	// Output: 30
}

// A value wider than a word is still loaded and stored atomically.
func ExampleRawValue() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	type point struct{ X, Y, Z float64 }
	p, _ := value.NewRaw(seg, "p", point{1, 2, 3})
	old := p.Swap(point{4, 5, 6})
	fmt.Println(old, p.Load(), p.CompareAndSwap(point{4, 5, 6}, point{}))

	_, err = value.OpenRaw[[3]float32](seg, "p")
	fmt.Println(errors.Is(err, shm.ErrTypeMismatch))
	// Output:
	// {1 2 3} {4 5 6} true
	// true
}

func ExampleInspect() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	_, _ = value.New[int32](seg, "n", 7)
	obj, _ := seg.Lookup("n")
	info, _ := value.Inspect(obj)
	fmt.Println(info)
	// Output: value of 4-byte elements, lock unlocked
}
