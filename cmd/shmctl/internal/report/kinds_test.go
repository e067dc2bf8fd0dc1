package report

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/multiproc-go/multiproc/shm"
)

// Every kind in shm's one list has an adapter here, so that shmctl says
// what is inside each object instead of showing bytes: a new shared type
// that forgets kind_<package>.go fails this test.
func TestEveryKindHasAnAdapter(t *testing.T) {
	exempt := map[shm.Kind]string{
		shm.KindBytes: "raw bytes from Segment.Alloc: only their owner knows what they mean, so size and offset are all there is to say",
		shm.KindPool:  "a process pool's per-worker state words, private to procs (no exported Inspect) and gone with the pool",
		shm.KindPipe:  "reserved: procs' Pipe is a socket pair, and nothing creates an object of this kind",
	}
	n := 0
	for k := shm.Kind(1); k.Valid(); k++ {
		n++
		_, has := adapters[k]
		if reason, ok := exempt[k]; ok {
			assert.False(t, has, "kind %s has an adapter now: drop its exemption (%s)", k, reason)
			continue
		}
		assert.True(t, has, "kind %s has no shmctl adapter: register one in cmd/shmctl/internal/report/kind_<package>.go", k)
	}
	assert.Equal(t, len(adapters)+len(exempt), n, "an adapter is registered for a kind outside shm's list")
}
