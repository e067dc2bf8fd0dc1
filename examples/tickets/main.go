// Command tickets sells a fixed number of tickets from several processes
// at once, sharing the count in shared memory: without a lock they sell
// more tickets than there are (check, then decrement, is a race), with the
// value's lock they sell exactly as many, and so does a lock-free
// compare-and-swap loop.
//
// The buyers of a round wait at a barrier until all of them are running,
// then start together: started one after another, milliseconds apart, the
// first would often sell everything before the last one began, and the
// race would show only sometimes.
//
//	go run ./examples/tickets
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

const (
	tickets = 300
	buyers  = 4
)

// pay stands for the work between seeing a ticket and taking it: it
// widens the window in which another buyer sees the same count.
func pay() {
	for end := time.Now().Add(20 * time.Microsecond); time.Now().Before(end); {
	}
}

// A buyer's argument: the count of tickets left, and the barrier where the
// round's buyers meet before the first sale.
type (
	racyArg struct {
		Left  *value.RawValue[int64]
		Start *semaphore.Barrier
	}
	lockedArg struct {
		Left  *value.Value[int64]
		Start *semaphore.Barrier
	}
)

var (
	// buyRacy checks the count, pays, then writes count-1: two buyers that
	// read the same count both sell a ticket and write the same value.
	buyRacy = procs.Register("tickets-racy", func(a racyArg) (int, error) {
		left := a.Left
		if _, err := a.Start.Wait(); err != nil {
			return 0, err
		}
		sold := 0
		for {
			n := left.Load()
			if n <= 0 {
				return sold, nil
			}
			pay()
			left.Store(n - 1)
			sold++
		}
	})

	// buyLocked does the same under the value's lock (Python's
	// get_lock()): check and decrement are one step for everybody.
	buyLocked = procs.Register("tickets-locked", func(a lockedArg) (int, error) {
		left := a.Left
		if _, err := a.Start.Wait(); err != nil {
			return 0, err
		}
		sold := 0
		for {
			if err := left.Lock(); err != nil {
				return sold, err // ErrOwnerDead: a buyer died holding it
			}
			n := left.Load()
			if n <= 0 {
				return sold, left.Unlock()
			}
			pay()
			left.Store(n - 1)
			if err := left.Unlock(); err != nil {
				return sold, err
			}
			sold++
		}
	})

	// buyCAS takes a ticket only if the count is still what it saw, and
	// tries again otherwise: exact, and no buyer ever waits on a lock.
	buyCAS = procs.Register("tickets-cas", func(a lockedArg) (int, error) {
		left := a.Left
		if _, err := a.Start.Wait(); err != nil {
			return 0, err
		}
		sold := 0
		for {
			n := left.Load()
			if n <= 0 {
				return sold, nil
			}
			pay()
			if left.CompareAndSwap(n, n-1) {
				sold++
			}
		}
	})
)

func main() {
	procs.Main() // first: in a buyer process, this runs its function
	if _, err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tickets:", err)
		os.Exit(1)
	}
}

// A sale is one round: how many tickets the buyers sold in all.
type sale struct {
	How  string
	Sold int
	Left int64
}

func run(out io.Writer) ([]sale, error) {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		return nil, err
	}
	defer seg.Detach()

	racy, err := value.NewRaw[int64](seg, "racy", tickets)
	if err != nil {
		return nil, err
	}
	locked, err := value.New[int64](seg, "locked", tickets)
	if err != nil {
		return nil, err
	}
	cas, err := value.New[int64](seg, "cas", tickets)
	if err != nil {
		return nil, err
	}

	// One barrier per round: its buyers start selling together.
	var starts [3]*semaphore.Barrier
	for i := range starts {
		if starts[i], err = semaphore.NewBarrier(seg, fmt.Sprintf("start-%d", i), buyers, nil); err != nil {
			return nil, err
		}
	}

	var sales []sale
	for _, round := range []struct {
		how   string
		start func() (*procs.Process, error)
		left  func() int64
	}{
		{"without a lock", func() (*procs.Process, error) { return procs.Start(buyRacy, racyArg{racy, starts[0]}) }, racy.Load},
		{"with the value's lock", func() (*procs.Process, error) { return procs.Start(buyLocked, lockedArg{locked, starts[1]}) }, locked.Load},
		{"lock-free, compare-and-swap", func() (*procs.Process, error) { return procs.Start(buyCAS, lockedArg{cas, starts[2]}) }, cas.Load},
	} {
		var ps []*procs.Process
		for range buyers {
			p, err := round.start()
			if err != nil {
				// The ones started wait at the barrier for a buyer that
				// will never come.
				for _, p := range ps {
					_ = p.Kill()
					_ = p.Join()
				}
				return nil, err
			}
			ps = append(ps, p)
		}
		s := sale{How: round.how}
		for _, p := range ps {
			n, err := procs.Result[int](waitFor(p))
			if err != nil {
				return nil, err
			}
			s.Sold += n
		}
		s.Left = round.left()
		sales = append(sales, s)
		verdict := "exact"
		if s.Sold > tickets {
			verdict = fmt.Sprintf("OVERSOLD by %d", s.Sold-tickets)
		}
		fmt.Fprintf(out, "%-28s %d tickets, %d buyers sold %d: %s\n", round.how+":", tickets, buyers, s.Sold, verdict)
	}
	return sales, nil
}

func waitFor(p *procs.Process) *procs.Process {
	_ = p.Join()
	return p
}
