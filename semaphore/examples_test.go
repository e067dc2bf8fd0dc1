package semaphore_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

func ExampleMutex() {
	seg, _ := shm.Anonymous(1 << 16)
	defer seg.Detach()
	mu, _ := semaphore.NewMutex(seg, "mu")

	// Lock returns ErrOwnerDead when it took the lock over from a process
	// that died holding it: the caller holds the lock, repairs the data it
	// guards, and says so before unlocking.
	err := mu.Lock()
	if errors.Is(err, semaphore.ErrOwnerDead) {
		// ... repair the shared data ...
		err = mu.MarkConsistent()
	}
	if err != nil {
		fmt.Println("lock:", err)
		return
	}
	fmt.Println("locked:", mu.Locked())
	fmt.Println("try again:", errors.Is(mu.TryLock(), semaphore.ErrWouldBlock))
	_ = mu.Unlock()
	fmt.Println("locked:", mu.Locked())
	// Output:
	// locked: true
	// try again: true
	// locked: false
}

// add is a child process's work: n locked increments of a shared counter.
type addArg struct {
	Seg *shm.Segment
	Mu  *semaphore.Mutex
	N   int
}

var add = procs.Register("semaphore-example-add", func(a addArg) (int, error) {
	obj, err := a.Seg.Lookup("counter")
	if err != nil {
		return 0, err
	}
	counter := obj.Uint64(0)
	for range a.N {
		if err := a.Mu.Lock(); err != nil {
			return 0, err
		}
		*counter++ // a plain increment: the lock makes it safe
		if err := a.Mu.Unlock(); err != nil {
			return 0, err
		}
	}
	return a.N, nil
})

// A Mutex crosses to child processes as an argument. (In a program,
// procs.Main() is the first line of main; here TestMain calls it.)
func ExampleMutex_processes() {
	seg, _ := shm.Anonymous(1 << 16)
	defer seg.Detach()
	mu, _ := semaphore.NewMutex(seg, "mu")
	obj, _ := seg.Create(shm.Spec{Name: "counter", Kind: shm.KindBytes, Size: 8}, nil)

	var ps []*procs.Process
	for range 3 {
		p, err := procs.Start(add, addArg{Seg: seg, Mu: mu, N: 1000})
		if err != nil {
			fmt.Println(err)
			return
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := p.Join(); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println(atomic.LoadUint64(obj.Uint64(0)))
	// Output: 3000
}

// A Mutex embedded in another object: its zero bytes are an unlocked
// mutex, so the object needs no initialization.
func ExampleMutexAt() {
	seg, _ := shm.Anonymous(1 << 16)
	defer seg.Detach()
	const lockOff, dataOff = 0, semaphore.MutexSize
	obj, _ := seg.Create(shm.Spec{Name: "record", Kind: shm.KindBytes, Size: semaphore.MutexSize + 64}, nil)
	mu := semaphore.MutexAt(obj, lockOff, "record.lock")

	_ = mu.Lock()
	copy(obj.Bytes()[dataOff:], "guarded")
	_ = mu.Unlock()

	st, _ := semaphore.InspectMutexAt(obj, lockOff)
	fmt.Println(st, string(obj.Bytes()[dataOff:dataOff+7]))
	// Output: unlocked guarded
}

func ExampleRLock() {
	seg, _ := shm.Anonymous(1 << 16)
	defer seg.Detach()
	rl, _ := semaphore.NewRLock(seg, "rl")

	me := semaphore.NewOwner() // who holds it: goroutines have no identity
	_ = rl.Lock(me)
	_ = rl.Lock(me) // re-entered
	fmt.Println("depth:", rl.Count(me))
	other := semaphore.NewOwner()
	fmt.Println("other may release:", rl.Unlock(other) == nil)
	_ = rl.Unlock(me)
	_ = rl.Unlock(me)
	fmt.Println("locked:", rl.State().Locked)
	// Output:
	// depth: 2
	// other may release: false
	// locked: false
}

func ExampleSemaphore() {
	seg, _ := shm.Anonymous(1 << 16)
	defer seg.Detach()
	slots, _ := semaphore.NewBoundedSemaphore(seg, "slots", 2)

	_ = slots.Acquire()
	_ = slots.Acquire()
	fmt.Println("value:", slots.Value())
	fmt.Println("third:", errors.Is(slots.TryAcquire(), semaphore.ErrWouldBlock))
	_ = slots.Release()
	_ = slots.Release()
	fmt.Println("over the bound:", errors.Is(slots.Release(), semaphore.ErrBoundExceeded))
	// Output:
	// value: 0
	// third: true
	// over the bound: true
}

func ExampleCondition() {
	seg, _ := shm.Anonymous(1 << 16)
	defer seg.Detach()
	mu, _ := semaphore.NewMutex(seg, "mu")
	cond, _ := semaphore.NewCondition(seg, "items", mu)
	obj, _ := seg.Create(shm.Spec{Name: "queue", Kind: shm.KindBytes, Size: 8}, nil)
	items := obj.Uint64(0) // guarded by mu

	var wg sync.WaitGroup
	wg.Go(func() { // consumer
		_ = mu.Lock()
		_ = cond.WaitFor(func() bool { return *items >= 3 })
		fmt.Println("consumer saw", *items, "items")
		_ = mu.Unlock()
	})
	for range 3 { // producer
		_ = mu.Lock()
		*items++
		_ = cond.Notify(1)
		_ = mu.Unlock()
	}
	wg.Wait()
	// Output: consumer saw 3 items
}

func ExampleEvent() {
	seg, _ := shm.Anonymous(1 << 16)
	defer seg.Detach()
	ready, _ := semaphore.NewEvent(seg, "ready")

	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _ = ready.Wait() })
	}
	ready.Set() // wakes every waiter
	wg.Wait()
	fmt.Println("set:", ready.IsSet())
	ready.Clear()
	fmt.Println("times out:", errors.Is(ready.WaitTimeout(0), semaphore.ErrTimeout))
	// Output:
	// set: true
	// times out: true
}

func ExampleBarrier() {
	seg, _ := shm.Anonymous(1 << 16)
	defer seg.Detach()
	rounds := 0
	b, _ := semaphore.NewBarrier(seg, "b", 3, func() error {
		rounds++ // runs once per round, in the last arrival's process
		return nil
	})

	var wg sync.WaitGroup
	var seen [3]atomic.Bool
	for range 3 {
		wg.Go(func() {
			i, err := b.Wait()
			if err == nil {
				seen[i].Store(true) // arrival index: 0, 1, 2
			}
		})
	}
	wg.Wait()
	fmt.Println(rounds, seen[0].Load(), seen[1].Load(), seen[2].Load())

	b.Abort()
	_, err := b.Wait()
	fmt.Println(errors.Is(err, semaphore.ErrBrokenBarrier))
	// Output:
	// 1 true true true
	// true
}
