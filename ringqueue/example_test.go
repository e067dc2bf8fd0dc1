package ringqueue_test

import (
	"bytes"
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

// Copy is copy() for large messages: in a batch callback it moves a
// message of 4 KiB or more as fast as Put and Get do.
func ExampleCopy() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		panic(err)
	}
	defer seg.Detach()
	q, err := ringqueue.New(seg, "big", ringqueue.Options{Capacity: 4, SlotSize: 64 << 10, Mode: ringqueue.SPSC})
	if err != nil {
		panic(err)
	}
	msg := bytes.Repeat([]byte{7}, 64<<10)
	put, err := q.PutBatchFunc(2, func(i int, slot []byte) int { return ringqueue.Copy(slot, msg) })
	if err != nil {
		panic(err)
	}
	buf := make([]byte, 64<<10)
	got := 0
	if _, err := q.GetBatch(2, func(m []byte) { got += ringqueue.Copy(buf, m) }); err != nil {
		panic(err)
	}
	fmt.Println(put, got, bytes.Equal(buf, msg))
	// Output: 2 131072 true
}
