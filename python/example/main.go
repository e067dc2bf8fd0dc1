// Command example feeds a Python process from Go over shared memory: Go
// puts jobs on one queue, a Python worker (worker.py, this repository's
// python/ package) squares them and puts the results on another, and
// both add to a counter under its lock. Run it from the repository's
// root: go run ./python/example
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

const jobs = 1000

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	name := fmt.Sprintf("frompython-%d", os.Getpid())
	seg, err := shm.Create(name, 1<<20)
	if err != nil {
		return err
	}
	defer func() { _ = shm.Unlink(name); _ = seg.Detach() }()
	in, err := ringqueue.New(seg, "jobs", ringqueue.Options{Capacity: 256, SlotSize: 8})
	if err != nil {
		return err
	}
	out, err := ringqueue.New(seg, "results", ringqueue.Options{Capacity: 256, SlotSize: 8})
	if err != nil {
		return err
	}
	done, err := value.New(seg, "done", int64(0))
	if err != nil {
		return err
	}

	// The worker imports the package from python/ next to this directory.
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Dir(here)
	py := exec.Command("python3", filepath.Join(dir, "worker.py"), name)
	py.Env = append(os.Environ(), "PYTHONPATH="+filepath.Dir(dir))
	py.Stdout, py.Stderr = os.Stdout, os.Stderr
	if err := py.Start(); err != nil {
		return err
	}

	go func() {
		msg := make([]byte, 8)
		for i := range jobs {
			binary.LittleEndian.PutUint64(msg, uint64(i))
			if err := in.Put(msg); err != nil {
				log.Print(err)
				return
			}
		}
		_ = in.Close() // the worker drains the queue, then sees it closed
	}()
	var sum uint64
	buf := make([]byte, 8)
	for {
		_, err := out.Get(buf)
		if errors.Is(err, ringqueue.ErrClosed) {
			break // the worker closed it: every result is in
		}
		if err != nil {
			return err
		}
		sum += binary.LittleEndian.Uint64(buf)
		if err := done.Update(func(n *int64) { *n++ }); err != nil {
			return err
		}
	}
	if err := py.Wait(); err != nil {
		return err
	}
	fmt.Printf("sum of %d squares: %d; counter: %d\n", jobs, sum, done.Load())
	return nil
}
