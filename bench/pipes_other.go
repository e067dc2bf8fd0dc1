//go:build !linux

package bench

import (
	"errors"
	"fmt"
	"os"
)

// The comparisons run on Linux only (they start processes with procs);
// off Linux these keep the package and its tests compiling.

func blockingPipe() (r, w *os.File, err error) {
	return nil, nil, fmt.Errorf("bench: pipe: %w", errors.ErrUnsupported)
}

func blockingSocketpair() (a, b *os.File, err error) {
	return nil, nil, fmt.Errorf("bench: socketpair: %w", errors.ErrUnsupported)
}
