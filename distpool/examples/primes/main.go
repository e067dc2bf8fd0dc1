// Command primes counts the primes below a bound on worker hosts over NATS
// JetStream, with distpool, and draws a progress bar as ranges come back.
//
// By default it is a whole deployment on one machine: it starts an
// embedded NATS server (127.0.0.1, a random token, a temporary store) and
// two host processes of itself, each serving with its own local pool of
// worker processes, then drives the work:
//
//	go run ./examples/primes                 # from distpool/
//	go run ./examples/primes -below 5000000
//
// Across machines, the same binary plays both parts against a NATS server
// (or cluster) you run:
//
//	primes -serve -url nats://nats.example:4222 -token $TOKEN   # on each host
//	primes -url nats://nats.example:4222 -token $TOKEN          # the driver
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/multiproc-go/multiproc/distpool"
	"github.com/multiproc-go/multiproc/procs"
	"github.com/nats-io/nats.go"
	"github.com/schollz/progressbar/v3"
)

// A span is a range of numbers [Lo, Hi) to search.
type span struct{ Lo, Hi int }

var (
	countPrimes = procs.Register("primes-count", func(s span) (int, error) {
		n := 0
		for x := max(s.Lo, 2); x < s.Hi; x++ {
			if isPrime(x) {
				n++
			}
		}
		return n, nil
	})

	// host is a host process the driver starts on this machine.
	host = procs.Register("primes-host", func(a hostArgs) (struct{}, error) {
		return struct{}{}, serve(a.URL, a.Token, a.Name, a.Slots)
	})
)

type hostArgs struct {
	URL, Token, Name string
	Slots            int
}

func isPrime(x int) bool {
	if x < 4 {
		return x >= 2
	}
	if x%2 == 0 {
		return false
	}
	for d := 3; d*d <= x; d += 2 {
		if x%d == 0 {
			return false
		}
	}
	return true
}

func main() {
	procs.Main() // first: in a worker or a host process, this runs its function
	below := flag.Int("below", 2_000_000, "count the primes below this")
	step := flag.Int("span", 20_000, "numbers per task")
	url := flag.String("url", "", "NATS server URL (default: an embedded server and two local hosts)")
	token := flag.String("token", "", "the server's token")
	serveOnly := flag.Bool("serve", false, "be a worker host of -url until interrupted")
	slots := flag.Int("slots", 0, "worker processes of a host (0: one per CPU)")
	flag.Parse()
	var err error
	switch {
	case *serveOnly && *url == "":
		err = errors.New("-serve needs -url")
	case *serveOnly:
		h, _ := os.Hostname()
		err = serve(*url, *token, fmt.Sprintf("%s-%d", h, os.Getpid()), *slots)
	default:
		var n int
		n, err = run(*url, *token, *below, *step, os.Stderr)
		if err == nil {
			fmt.Printf("%d primes below %d\n", n, *below)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "primes:", err)
		os.Exit(1)
	}
}

// serve is a worker host until SIGINT or SIGTERM.
func serve(url, token, name string, slots int) error {
	nc, err := distpool.Connect(url, distpool.WithConnToken(token), distpool.WithName(name))
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := []distpool.ServeOption{distpool.ServeQueue("primes"), distpool.ServeName(name)}
	if slots > 0 {
		opts = append(opts, distpool.ServeSlots(slots))
	}
	return distpool.Serve(ctx, nc, opts...)
}

// run counts the primes below `below` in tasks of `step` numbers, drawing
// the bar on bar. With no url it brings up the embedded server and two
// hosts of two workers each, and takes them down at the end.
func run(url, token string, below, step int, bar io.Writer) (int, error) {
	if below < 2 || step < 1 {
		return 0, fmt.Errorf("bound %d, span %d: want a bound of at least 2 and a positive span", below, step)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The driver beside an embedded server connects in process (no TCP);
	// to a server elsewhere, by its URL.
	connect := func() (*nats.Conn, error) {
		return distpool.Connect(url, distpool.WithConnToken(token), distpool.WithName("primes-driver"))
	}
	if url == "" {
		srv, err := distpool.StartServer()
		if err != nil {
			return 0, err
		}
		defer srv.Shutdown()
		url, token = srv.URL(), srv.Token()
		connect = func() (*nats.Conn, error) { return srv.ConnectInProcess(distpool.WithName("primes-driver")) }
		for _, name := range []string{"host-a", "host-b"} {
			p, err := procs.Start(host, hostArgs{URL: url, Token: token, Name: name, Slots: 2})
			if err != nil {
				return 0, fmt.Errorf("starting %s: %w", name, err)
			}
			defer func() {
				_ = p.Terminate() // Serve finishes what it runs and withdraws
				if p.JoinTimeout(time.Minute) != nil {
					_ = p.Kill()
					_ = p.Join()
				}
			}()
		}
	}
	nc, err := connect()
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	pool, err := distpool.NewPool(ctx, nc, distpool.WithQueue("primes"))
	if err != nil {
		return 0, fmt.Errorf("pool: %w", err)
	}
	defer pool.Terminate()

	tasks := (below + step - 1) / step
	pb := progressbar.NewOptions(tasks,
		progressbar.OptionSetWriter(bar),
		progressbar.OptionSetDescription("counting"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("ranges"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(50*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
	)
	spans := func(yield func(span) bool) {
		for lo := 0; lo < below; lo += step {
			if !yield(span{Lo: lo, Hi: min(lo+step, below)}) {
				return
			}
		}
	}
	total := 0
	// Tasks go out as hosts take them; results come back in any order.
	for n, err := range procs.ImapUnordered(pool, countPrimes, iter.Seq[span](spans), 1) {
		if err != nil {
			return 0, fmt.Errorf("counting: %w", err)
		}
		total += n
		_ = pb.Add(1)
	}
	_ = pb.Finish()
	fmt.Fprintln(bar)
	if err := pool.Close(); err != nil {
		return 0, err
	}
	return total, pool.JoinContext(ctx)
}
