package distpool

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// hostAd is what a host advertises under "<queue>.<host>".
type hostAd struct {
	Slots int    `json:"slots"`
	Build string `json:"build"`
}

// hostWatch follows the queue's keys in the hosts bucket.
type hostWatch struct {
	w    jetstream.KeyWatcher
	mu   sync.Mutex
	seen map[string]hostSeen
	done chan struct{}
}

type hostSeen struct {
	slots int
	at    time.Time
}

func watchHosts(ctx context.Context, js jetstream.JetStream, queue string) (*hostWatch, error) {
	kv, err := hostsKV(ctx, js)
	if err != nil {
		return nil, err
	}
	w, err := kv.Watch(context.Background(), queue+".*")
	if err != nil {
		return nil, fmt.Errorf("distpool: watching hosts: %w", err)
	}
	h := &hostWatch{w: w, seen: map[string]hostSeen{}, done: make(chan struct{})}
	go h.run()
	return h, nil
}

func (h *hostWatch) run() {
	defer close(h.done)
	replay := true
	for e := range h.w.Updates() {
		if e == nil {
			replay = false // the end of the initial values
			continue
		}
		h.mu.Lock()
		var ad hostAd
		if e.Operation() == jetstream.KeyValuePut && json.Unmarshal(e.Value(), &ad) == nil && ad.Slots > 0 {
			at := time.Now() // an update seen now is fresh now; only replayed ones carry their age
			if replay && e.Created().Before(at) {
				at = e.Created()
			}
			h.seen[e.Key()] = hostSeen{slots: ad.Slots, at: at}
		} else {
			delete(h.seen, e.Key())
		}
		h.mu.Unlock()
	}
}

// slots sums the slots of hosts heard from within hostStale.
func (h *hostWatch) slots() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for k, s := range h.seen {
		if time.Since(s.at) > hostStale {
			delete(h.seen, k)
			continue
		}
		n += s.slots
	}
	return n
}

func (h *hostWatch) stop() {
	_ = h.w.Stop()
	<-h.done
}

// advertise puts the host's slots under its key every hostBeat until ctx
// ends, then deletes the key.
func advertise(ctx context.Context, kv jetstream.KeyValue, key string, ad hostAd) {
	b, _ := json.Marshal(ad)
	t := time.NewTicker(hostBeat)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, hostBeat)
		_, _ = kv.Put(pctx, key, b) // a miss is made good next beat
		cancel()
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = kv.Delete(dctx, key)
			cancel()
			return
		case <-t.C:
		}
	}
}

func hostKey(queue, host string) string { return queue + "." + strings.ReplaceAll(host, ".", "_") }
