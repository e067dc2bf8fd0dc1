package bench

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
)

// Throughput/c-ring: the C ring (cring.go), one producer process and one
// consumer process, driven like the Python scripts: one server per
// sub-benchmark serves every b.N, timing its own loop.

// cringProgram returns the C ring to run: $MULTIPROC_BENCH_CRING, else one
// built into b's temporary directory (so built once per BenchmarkThroughput).
// Without a C compiler it returns "" and the reason.
func cringProgram(b *testing.B) (string, error) {
	if p := os.Getenv(cringEnv); p != "" {
		return p, nil
	}
	return BuildCRing(context.Background(), cringSource(), b.TempDir())
}

func benchThroughputC(b *testing.B, program string, perr error, sz msgSize) {
	runServerBench(b, "c-ring/"+sz.name, []string{"msgs/s"}, func() (*pyServer, error) {
		if perr != nil {
			if errors.Is(perr, ErrNoCC) {
				return nil, errSkip{"skipping the C ring: " + perr.Error()}
			}
			return nil, perr
		}
		return startServer(program, "--serve", "--size", strconv.Itoa(sz.bytes), "--capacity", strconv.Itoa(sz.slots))
	})
}

func TestCRingServesRoundsAndChecksSequence(t *testing.T) {
	program, err := BuildCRing(context.Background(), cringSource(), t.TempDir())
	if errors.Is(err, ErrNoCC) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, sz := range []msgSize{msgSizes[0], msgSizes[len(msgSizes)-1]} {
		srv, err := startServer(program, "--serve", "--size", strconv.Itoa(sz.bytes), "--capacity", strconv.Itoa(sz.slots))
		if err != nil {
			t.Fatal(err)
		}
		var clock fakeClock
		for _, n := range []int{1, roundN} {
			fig, err := srv.run(&clock, n)
			if err != nil {
				t.Fatal(err)
			}
			if fig["msgs/s"] <= 0 {
				t.Fatalf("%s: %v", sz.name, fig)
			}
		}
		if err := srv.close(); err != nil {
			t.Fatal(err)
		}
	}
}
