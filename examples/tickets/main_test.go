package main

import (
	"os"
	"strings"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary serve as the example's buyers.
func TestMain(m *testing.M) {
	procs.Main()
	os.Exit(m.Run())
}

func TestTicketsTheLockSellsExactlyAndTheRaceNeverUndersells(t *testing.T) {
	var out strings.Builder
	sales, err := run(&out)
	require.NoError(t, err)
	t.Log("\n" + out.String())
	require.Len(t, sales, 3)

	// The race can sell more than there are, never fewer: every write is
	// one less than a count some buyer saw, so the count only reaches 0
	// after at least `tickets` sales. Buyers that start together at the
	// barrier oversell by hundreds (one that ran alone would sell exactly):
	// a buyer is inside its check-pay-write window nearly all the time, so
	// any overlap, on two cores or by preemption on one, shows.
	assert.Greater(t, sales[0].Sold, tickets, "the buyers did not race")
	assert.Zero(t, sales[0].Left)

	for _, s := range sales[1:] {
		assert.Equal(t, tickets, s.Sold, s.How)
		assert.Zero(t, s.Left, s.How)
	}
	assert.Contains(t, out.String(), "with the value's lock:       300 tickets, 4 buyers sold 300: exact")
	assert.Empty(t, procs.ActiveChildren())
}
