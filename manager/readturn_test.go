package manager

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The read turn passes between callers that read their own replies, the
// background reader, and back; every call must get its reply whoever reads
// it: plain calls (which may take the turn), cancellable ones (which never
// do), calls abandoned mid-flight, and a plain call that blocks in the
// server while the others go on around it.
func TestEveryCallerGetsItsReplyWhoeverReads(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			m := startServer(t, tr.address, Options{}).connect(t)
			v, err := NewValue(m, 0)
			require.NoError(t, err)
			q, err := NewQueue[int](m, 0)
			require.NoError(t, err)

			// A plain Get blocks in the server, possibly holding the turn,
			// until the end.
			blocked := make(chan error, 1)
			go func() {
				got, err := q.Get()
				if err == nil && got != 99 {
					err = assert.AnError
				}
				blocked <- err
			}()

			const rounds = 200
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			for g := range 4 {
				wg.Go(func() { // plain calls
					for i := range rounds {
						if _, err := v.Add(1); err != nil {
							errs <- err
							return
						}
						if (g+i)%7 == 0 {
							runtime.Gosched() // vary who holds the turn
						}
					}
				})
				wg.Go(func() { // cancellable calls
					for range rounds {
						ctx, cancel := context.WithTimeout(bg, time.Minute)
						_, err := m.c.call(ctx, site{method: ctlStats}, 0, ctlStats, nil)
						cancel()
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Go(func() { // calls abandoned while they wait in the server
				for range rounds / 10 {
					ctx, cancel := context.WithCancel(bg)
					done := make(chan error, 1)
					go func() { _, err := q.GetContext(ctx); done <- err }()
					cancel()
					if err := <-done; err != nil && !assert.ErrorIs(t, err, context.Canceled) {
						return
					}
				}
			})
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			got, err := v.Get()
			require.NoError(t, err)
			assert.Equal(t, 4*rounds, got)
			require.NoError(t, q.Put(99))
			require.NoError(t, <-blocked)
		})
	}
}
