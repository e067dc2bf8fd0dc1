// Quickstart: two worker processes square numbers from a shared queue and
// add them into a shared total. Run it with: go run ./examples/quickstart
package main

import (
	"errors"
	"fmt"
	"log"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

// Work is what each worker gets: shared objects cross as handles.
type Work struct {
	Jobs  *ringqueue.Typed[int64]
	Total *value.Value[int64]
}

var square = procs.Register("square", func(w Work) (int, error) {
	done := 0
	for {
		x, err := w.Jobs.Get() // blocks; ErrClosed once drained
		if errors.Is(err, ringqueue.ErrClosed) {
			return done, nil
		}
		if err != nil {
			return done, err
		}
		w.Total.Add(x * x) // lock-free, across processes
		done++
	}
})

func main() {
	procs.Main() // in a worker: runs square and exits

	// The segment is sized from what it will hold: a queue and a value.
	opts := ringqueue.Options{Capacity: 1024}
	qsize, err := ringqueue.TypedSize[int64](opts)
	if err != nil {
		log.Fatal(err)
	}
	vsize, err := value.Size[int64]()
	if err != nil {
		log.Fatal(err)
	}
	seg, err := shm.Anonymous(shm.Heap(qsize, vsize)) // children inherit it
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Detach()
	jobs, err := ringqueue.NewTyped[int64](seg, "jobs", opts)
	if err != nil {
		log.Fatal(err)
	}
	total, err := value.New[int64](seg, "total", 0)
	if err != nil {
		log.Fatal(err)
	}

	var workers []*procs.Process
	for range 2 {
		p, err := procs.Start(square, Work{jobs, total})
		if err != nil {
			log.Fatal(err)
		}
		workers = append(workers, p)
	}
	for i := int64(1); i <= 1000; i++ {
		if err := jobs.Put(i); err != nil {
			log.Fatal(err)
		}
	}
	jobs.Close() // workers drain the queue, then see ErrClosed
	sum := 0
	for _, p := range workers {
		if err := p.Join(); err != nil {
			log.Fatal(err)
		}
		n, err := procs.Result[int](p)
		if err != nil {
			log.Fatal(err)
		}
		sum += n
	}
	fmt.Println("squared", sum, "numbers; total", total.Load())
}
