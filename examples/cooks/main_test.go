package main

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary serve as the example's cooks and eaters.
func TestMain(m *testing.M) {
	procs.Main()
	os.Exit(m.Run())
}

// lockedWriter takes the children's output, copied by one goroutine each.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestCooksJoinWaitsUntilEveryDishIsEaten(t *testing.T) {
	var out lockedWriter
	eaten, hungry, err := run(&out)
	t.Cleanup(func() {
		// In the program they die with the main process; here the test
		// process goes on, so end them.
		for _, p := range hungry {
			_ = p.Kill()
			<-p.Done()
		}
	})
	require.NoError(t, err)
	assert.Equal(t, int64(cooks*dishesPerCook), eaten, "Join returned only after the last TaskDone")
	for _, p := range hungry {
		assert.True(t, p.IsAlive(), "an eater (daemon) is still waiting for dishes")
		assert.True(t, p.Daemon())
	}
	s := out.String()
	assert.Equal(t, cooks*dishesPerCook, strings.Count(s, "on the counter"), "the cooks have been joined: all their output is in")
	assert.Contains(t, s, "main: all 15 dishes eaten")
}
