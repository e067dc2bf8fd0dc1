package report

import (
	"fmt"
	"strings"

	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
)

// Adapter for the ringqueue package's kinds (queue, joinable-queue). It
// calls ringqueue.Inspect, which validates the queue header and loads the
// shared words without writing.

// Queue is a bounded ring queue's state.
type Queue struct {
	Mode     string `json:"mode"` // "mpmc" or "spsc"
	Capacity int    `json:"capacity"`
	SlotSize int    `json:"slot_size"`
	Depth    int    `json:"depth"` // messages queued (or being written or read)
	Head     uint64 `json:"head"`
	Tail     uint64 `json:"tail"`
	Closed   bool   `json:"closed"`

	// Processes counted asleep on the queue's futex gates (a killed
	// sleeper stays counted until the next wake).
	ProducersWaiting int `json:"producers_waiting"`
	ConsumersWaiting int `json:"consumers_waiting"`

	// MPMC: slots claimed right now, and claims of dead participants
	// reclaimed so far.
	Claims    int    `json:"claims,omitempty"`
	Reclaimed uint64 `json:"reclaimed,omitempty"`

	// SPSC: the processes holding the producer and consumer roles.
	Producer *Holder `json:"producer,omitempty"`
	Consumer *Holder `json:"consumer,omitempty"`
}

func init() {
	register(shm.KindQueue, describeQueue)
	register(shm.KindJoinableQueue, describeQueue)
}

func describeQueue(v *shm.View, obj shm.Object) (any, string, error) {
	st, err := ringqueue.Inspect(obj)
	if err != nil {
		return nil, "", err
	}
	q := &Queue{
		Mode: strings.ToLower(st.Mode.String()), Capacity: st.Capacity, SlotSize: st.SlotSize,
		Depth: st.Len, Head: st.Head, Tail: st.Tail, Closed: st.Closed,
		ProducersWaiting: st.ProducersWaiting, ConsumersWaiting: st.ConsumersWaiting,
		Claims: st.Claims, Reclaimed: st.Reclaimed,
	}
	if st.ProducerRole != 0 {
		q.Producer = holder(v, st.ProducerRole)
	}
	if st.ConsumerRole != 0 {
		q.Consumer = holder(v, st.ConsumerRole)
	}
	state := "open"
	if q.Closed {
		state = "closed"
	}
	parts := []string{
		fmt.Sprintf("%s %d/%d queued", q.Mode, q.Depth, q.Capacity),
		fmt.Sprintf("slot %d B", q.SlotSize),
		state,
	}
	if q.ProducersWaiting > 0 {
		parts = append(parts, plural(q.ProducersWaiting, "producer", "producers")+" waiting")
	}
	if q.ConsumersWaiting > 0 {
		parts = append(parts, plural(q.ConsumersWaiting, "consumer", "consumers")+" waiting")
	}
	if q.Claims > 0 {
		parts = append(parts, plural(q.Claims, "slot", "slots")+" claimed")
	}
	if q.Reclaimed > 0 {
		parts = append(parts, fmt.Sprintf("%d reclaimed from dead processes", q.Reclaimed))
	}
	if q.Producer != nil {
		parts = append(parts, "producer "+q.Producer.String())
	}
	if q.Consumer != nil {
		parts = append(parts, "consumer "+q.Consumer.String())
	}
	return q, phrases(parts...), nil
}
