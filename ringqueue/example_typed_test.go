package ringqueue_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
)

// A fixed-size struct crosses as its bytes: no encoding, no allocation.
func ExampleNewTyped() {
	type Order struct {
		ID    uint64
		Qty   int32
		Price float64
	}
	seg, err := shm.Anonymous(1 << 20) // pass seg or q to children through procs
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	q, err := ringqueue.NewTyped[Order](seg, "orders", ringqueue.Options{Capacity: 64})
	if err != nil {
		panic(err)
	}
	fmt.Println(q.Encoding(), q.SlotSize(), "bytes a slot")

	_ = q.Put(Order{ID: 1, Qty: 3, Price: 9.5})
	_ = q.Put(Order{ID: 2, Qty: 1, Price: 120})
	_ = q.Close() // no more puts; what is queued drains first

	for {
		o, err := q.Get()
		if errors.Is(err, ringqueue.ErrClosed) {
			break
		}
		fmt.Printf("order %d: %d × %.2f\n", o.ID, o.Qty, o.Price)
	}
	// Output:
	// raw 24 bytes a slot
	// order 1: 3 × 9.50
	// order 2: 1 × 120.00
}

// Any other type travels as gob, within the slot size.
func ExampleNewTyped_gob() {
	type Doc struct {
		Title string
		Tags  []string
	}
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	q, err := ringqueue.NewTyped[Doc](seg, "docs", ringqueue.Options{Capacity: 16, SlotSize: 256})
	if err != nil {
		panic(err)
	}
	_ = q.Put(Doc{Title: "ring", Tags: []string{"queue", "shm"}})
	d, _ := q.GetTimeout(time.Second)
	fmt.Println(q.Encoding(), d.Title, d.Tags)

	err = q.Put(Doc{Title: string(make([]byte, 1000))})
	fmt.Println(errors.Is(err, ringqueue.ErrTooLarge))
	// Output:
	// gob ring [queue shm]
	// true
}

// Join waits until every task put has been marked done.
func ExampleJoinable() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	tasks, err := ringqueue.NewJoinable[int64](seg, "tasks", ringqueue.Options{Capacity: 16})
	if err != nil {
		panic(err)
	}
	done := make(chan int64)
	go func() { // a worker; usually in another process (procs.Start)
		var sum int64
		for {
			n, err := tasks.Get()
			if err != nil {
				done <- sum
				return
			}
			sum += n
			_ = tasks.TaskDone()
		}
	}()
	for i := int64(1); i <= 10; i++ {
		_ = tasks.Put(i)
	}
	_ = tasks.Join() // or JoinTimeout: a worker that dies holding a task never marks it done
	fmt.Println("unfinished:", tasks.Unfinished())
	_ = tasks.Close()
	fmt.Println("sum:", <-done)
	fmt.Println(errors.Is(tasks.TaskDone(), ringqueue.ErrTaskDoneTooMany))
	// Output:
	// unfinished: 0
	// sum: 55
	// true
}

// Every call that can wait comes in four forms: X waits, TryX never
// does, XTimeout and XContext bound the wait. Batches move many values
// per index update.
func ExampleTyped_TryPut() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	q, err := ringqueue.NewTyped[int64](seg, "forms", ringqueue.Options{Capacity: 4})
	if err != nil {
		panic(err)
	}
	n, _ := q.PutBatch([]int64{1, 2, 3, 4}) // fills the queue
	fmt.Println("put", n)

	fmt.Println(errors.Is(q.TryPut(5), ringqueue.ErrFull))
	err = q.PutTimeout(5, time.Millisecond)
	fmt.Println(errors.Is(err, ringqueue.ErrTimeout), errors.Is(err, ringqueue.ErrFull))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(errors.Is(q.PutContext(ctx, 5), context.Canceled))

	dst := make([]int64, 8)
	n, _ = q.GetBatch(dst)
	fmt.Println("got", dst[:n])
	_, err = q.TryGet()
	fmt.Println(errors.Is(err, ringqueue.ErrEmpty))
	// Output:
	// put 4
	// true
	// true true
	// true
	// got [1 2 3 4]
	// true
}
