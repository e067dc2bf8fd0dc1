package bench

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/procs"
)

// In a child: run its registered function and exit.
func TestMain(m *testing.M) { testutil.Main(m) }

// A msgSize is one message size of the Throughput benchmarks, with the ring
// (and channel) capacity used for it: every ring gets slots of exactly the
// message size, and about 4 MiB of slots at most, so that a 64 KiB message
// travels through a 64 KiB-slot ring of 64 slots. Pipes and sockets keep the
// kernel's default buffers (64 KiB for a pipe).
type msgSize struct {
	name  string
	bytes int
	slots int
}

var msgSizes = []msgSize{
	{"8B", 8, 1024},
	{"64B", 64, 1024},
	{"4KiB", 4 << 10, 1024},
	{"64KiB", 64 << 10, 64},
}

// latencySize is the message of the Latency benchmarks.
const latencySize = 64

// joinLimit bounds the wait for a child after its run: far beyond a normal
// exit, it turns a wedged child into an error.
const joinLimit = time.Minute

// A crew is the children of one timed run.
type crew []*procs.Process

// start starts f(arg) as a daemon child (it dies with this process, so a
// failed benchmark leaves nobody behind) and adds it to the crew.
func start[A any](b testing.TB, c *crew, f *procs.Func[A, int], arg A) {
	b.Helper()
	p, err := procs.Start(f, arg, procs.WithDaemon(true), procs.WithStderr(os.Stderr))
	if err != nil {
		b.Fatal(err)
	}
	*c = append(*c, p)
}

// exited is a gate check: an error as soon as a child of c has failed.
// A child that ended cleanly has made its marks (every child function
// marks before it returns nil), so it holds nobody up.
func (c crew) exited() error {
	for _, p := range c {
		select {
		case <-p.Done():
			if err := p.Join(); err != nil {
				return fmt.Errorf("child %s: %w", p.Name(), err)
			}
		default:
		}
	}
	return nil
}

// join waits for every child and returns the sum of their results.
func (c crew) join(b testing.TB) int {
	b.Helper()
	total := 0
	for _, p := range c {
		if err := p.JoinTimeout(joinLimit); err != nil {
			_ = p.Kill()
			b.Fatalf("child %s: %v", p.Name(), err)
		}
		r, err := procs.Result[int](p)
		if err != nil {
			b.Fatalf("child %s: result: %v", p.Name(), err)
		}
		total += r
	}
	return total
}

// timed runs one measured round: it waits (timer stopped) until every child
// of c is ready at g, starts the timer, opens g, runs own (the benchmark
// process's part, may be nil), waits until want participants are done at g,
// stops the timer and joins the children. It returns the children's summed
// results. The caller stops the timer before setting up. b is a *testing.B,
// or a *testing.T in the tests of the children (no timer then).
func timed(b testing.TB, g gate, c crew, want int, own func() error) int {
	b.Helper()
	clock, _ := b.(timer)
	if err := g.waitReady(len(c), c.exited); err != nil {
		c.kill()
		b.Fatal(err)
	}
	if clock != nil {
		clock.StartTimer()
	}
	g.open()
	var ownErr error
	if own != nil {
		ownErr = own()
	}
	var err error
	if ownErr == nil {
		err = g.waitDone(want, c.exited)
	}
	if clock != nil {
		clock.StopTimer()
	}
	if ownErr != nil || err != nil {
		c.kill()
		b.Fatal(errors.Join(ownErr, err))
	}
	return c.join(b)
}

// kill ends every child of a failed round.
func (c crew) kill() {
	for _, p := range c {
		_ = p.Kill()
		_ = p.JoinTimeout(joinLimit)
	}
}

// stopTimer stops b's timer if it has one (a *testing.B): rounds start
// with the timer stopped and start it themselves once set up.
func stopTimer(b testing.TB) {
	if clock, ok := b.(timer); ok {
		clock.StopTimer()
	}
}

// reportRate reports n messages (or operations) over the timer's elapsed
// time as unit per second.
func reportRate(b *testing.B, n int, unit string) {
	b.ReportMetric(rate(n, b.Elapsed()), unit)
}
