package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The C ring (cring/spsc.c) is the physical limit of the Throughput
// comparison: the same messages between two processes over the same kind
// of mapping, with nothing but the ring. It is compiled with the system's
// C compiler ($CC, else cc) the first time a benchmark process needs it;
// without one its benchmark is skipped with a note.

// cringEnv names an already built C ring (the compare command builds it
// once for every round); unset, the benchmark builds its own.
const cringEnv = "MULTIPROC_BENCH_CRING"

// cringSource is the C ring's source, next to this package's sources (go
// test runs in the package directory).
func cringSource() string { return filepath.Join("cring", "spsc.c") }

// BuildCRing compiles the C ring from src into dir and returns the
// program's path. An error that is errNoCC means there is no C compiler.
func BuildCRing(ctx context.Context, src, dir string) (string, error) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	path, err := exec.LookPath(cc)
	if err != nil {
		return "", fmt.Errorf("%w (%s): %v", ErrNoCC, cc, err)
	}
	out := filepath.Join(dir, "spsc")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-O2", "-std=gnu11", "-o", out, src)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: %s %s: %w\n%s", cc, src, err, b)
	}
	return out, nil
}

// ErrNoCC: no C compiler to build the C ring with.
var ErrNoCC = fmt.Errorf("bench: no C compiler")
