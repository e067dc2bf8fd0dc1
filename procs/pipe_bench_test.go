package procs_test

import (
	"context"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/multiproc-go/multiproc/procs"
)

// sink acknowledges its start on Ack, receives N messages from In into one
// buffer, then acknowledges the end: the sender's clock covers delivery.
var sink = procs.Register("pipe-bench-sink", func(a struct {
	In, Ack *procs.Conn
	N       int
}) (struct{}, error) {
	defer a.In.Close()
	defer a.Ack.Close()
	if err := a.Ack.SendBytes(nil); err != nil {
		return struct{}{}, err
	}
	buf := make([]byte, 64<<10)
	for range a.N {
		if _, err := a.In.RecvBytesInto(buf); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, a.Ack.SendBytes(nil)
})

func BenchmarkPipeThroughput(b *testing.B) {
	for _, size := range []int{64, 4096} {
		name := strconv.Itoa(size) + "B"
		if size >= 1024 {
			name = strconv.Itoa(size>>10) + "KiB"
		}
		b.Run(name+"/procs-oneway", func(b *testing.B) { benchPipeThroughput(b, size, false) })
		b.Run(name+"/procs-duplex", func(b *testing.B) { benchPipeThroughput(b, size, true) })
		for _, duplex := range []int{0, 1} {
			b.Run(name+"/python-"+[]string{"oneway", "duplex"}[duplex], func(b *testing.B) {
				rate := pythonFigure(b, pyPipeThroughput, b.N, size, duplex)
				b.ReportMetric(rate, "msgs/s")
				b.ReportMetric(1e9/rate, "ns/op")
			})
		}
	}
}

func benchPipeThroughput(b *testing.B, size int, duplex bool) {
	in, out, err := procs.Pipe(duplex)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	ack, ackChild, err := procs.Pipe(true)
	if err != nil {
		b.Fatal(err)
	}
	defer ack.Close()
	p, err := procs.Start(sink, struct {
		In, Ack *procs.Conn
		N       int
	}{in, ackChild, b.N})
	if err != nil {
		b.Fatal(err)
	}
	in.Close()
	ackChild.Close()
	if _, err := ack.RecvBytes(); err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, size)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := out.SendBytes(msg); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := ack.RecvBytes(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.StopTimer()
	if err := p.Join(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkPipePingPong(b *testing.B) {
	b.Run("procs", func(b *testing.B) {
		mine, theirs, err := procs.Pipe(true)
		if err != nil {
			b.Fatal(err)
		}
		p, err := procs.Start(echoBytes, theirs)
		if err != nil {
			b.Fatal(err)
		}
		theirs.Close()
		msg := make([]byte, 64)
		buf := make([]byte, 64)
		roundTrip := func() {
			if err := mine.SendBytes(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := mine.RecvBytesInto(buf); err != nil {
				b.Fatal(err)
			}
		}
		roundTrip() // the child is up
		b.ResetTimer()
		for range b.N {
			roundTrip()
		}
		b.StopTimer()
		mine.Close()
		if err := p.Join(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("python", func(b *testing.B) {
		b.ReportMetric(pythonFigure(b, pyPipePingPong, b.N, 64), "ns/op")
	})
}

const pyPipeThroughput = `
import multiprocessing as mp, sys, time
def sink(r, n):
    for _ in range(n):
        r.recv_bytes()
if __name__ == "__main__":
    mp.set_start_method("fork")
    n, size, duplex = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    r, w = mp.Pipe(duplex=duplex)
    p = mp.Process(target=sink, args=(r, n))
    p.start()
    msg = b"x" * size
    t = time.perf_counter()
    for _ in range(n):
        w.send_bytes(msg)
    p.join()
    print(n / (time.perf_counter() - t))
`

const pyPipePingPong = `
import multiprocessing as mp, sys, time
def echo(c, other):
    other.close()  # the parent's end, inherited by fork: EOF needs it closed
    while True:
        try:
            b = c.recv_bytes()
        except EOFError:
            return
        c.send_bytes(b)
if __name__ == "__main__":
    mp.set_start_method("fork")
    n, size = int(sys.argv[1]), int(sys.argv[2])
    a, b = mp.Pipe()
    p = mp.Process(target=echo, args=(b, a))
    p.start()
    b.close()
    msg = b"x" * size
    a.send_bytes(msg); a.recv_bytes()
    t = time.perf_counter()
    for _ in range(n):
        a.send_bytes(msg)
        a.recv_bytes()
    dt = time.perf_counter() - t
    a.close()
    p.join()
    print(dt / n * 1e9)
`

// pythonFigure runs a Python script with its arguments and returns the one
// number it prints: Python's own measurement of the same figure, taken in
// the same run. It skips the benchmark when python3 is missing.
func pythonFigure(b *testing.B, script string, args ...int) float64 {
	b.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 not found: no Python figure to compare with")
	}
	cmdArgs := []string{"-c", script}
	for _, a := range args {
		cmdArgs = append(cmdArgs, strconv.Itoa(a))
	}
	// A safety net, not a measurement: a wedged script must not hang the run.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, cmdArgs...)
	cmd.Stderr = io.Discard
	// The timer runs, so that b.N scales with the script's real duration;
	// the figure reported is the script's own (ReportMetric overrides ns/op).
	out, err := cmd.Output()
	if err != nil {
		b.Skipf("python3 failed: %v", err)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("python3 printed %q", out)
	}
	return v
}
