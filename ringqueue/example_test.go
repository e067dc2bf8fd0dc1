package ringqueue_test

import (
	"fmt"

	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
)

func Example() {
	seg, err := shm.Anonymous(1 << 20) // children inherit it; see procs
	if err != nil {
		panic(err)
	}
	defer seg.Detach()

	q, err := ringqueue.New(seg, "jobs", ringqueue.Options{Capacity: 64, SlotSize: 128})
	if err != nil {
		panic(err)
	}
	// A producer (here, and in any process that opens "jobs").
	for _, job := range []string{"resize a.png", "resize b.png"} {
		if err := q.Put([]byte(job)); err != nil {
			panic(err)
		}
	}
	q.Close() // no more jobs: consumers drain, then get ErrClosed

	// A consumer.
	buf := make([]byte, q.SlotSize())
	for {
		n, err := q.Get(buf)
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(string(buf[:n]))
	}
	// Output:
	// resize a.png
	// resize b.png
	// ringqueue "jobs": get: queue is closed
}

func ExampleQueue_Reserve() {
	seg, _ := shm.Anonymous(1 << 16)
	defer seg.Detach()
	q, _ := ringqueue.New(seg, "frames", ringqueue.Options{Capacity: 8, SlotSize: 64, Mode: ringqueue.SPSC})

	r, _ := q.Reserve(64) // the slot's own bytes
	n := copy(r.Bytes(), "written in place")
	_ = r.Commit(n)

	m, _ := q.Take() // read in place, valid until Release
	fmt.Println(string(m.Bytes()))
	_ = m.Release()
	// Output: written in place
}
