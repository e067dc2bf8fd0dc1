package distpool_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// benchFloor moves what a chunked Map of items ints moves, with nothing
// else: tasks of chunk*8 bytes published to a work-queue file stream,
// fetched one at a time by hosts goroutines (each on its own TCP
// connection, like distpool's hosts), each answered by a result of the same size
// published and stored before the task is acked, and the results read
// back with an ordered consumer. No encoding, no worker processes, no
// heartbeats: distpool's chunked Map cannot be faster than this.
func benchFloor(b *testing.B, items, chunk, hosts int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	js := floorJS(b, connectInProcess(b)) // the driver's side, as distpool's benchmark has it
	for _, sc := range []jetstream.StreamConfig{
		{Name: "FLOOR_TASKS", Subjects: []string{"floor.task"}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage},
		{Name: "FLOOR_RESULTS", Subjects: []string{"floor.result"}, Storage: jetstream.FileStorage},
	} {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, "FLOOR_TASKS", jetstream.ConsumerConfig{
		Durable: "floor", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 1, MaxAckPending: -1,
	}); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: the hosts' fetches end within their wait
	defer cancel()
	for range hosts {
		hjs := floorJS(b, connect(b))
		cons, err := hjs.Consumer(ctx, "FLOOR_TASKS", "floor")
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			for ctx.Err() == nil {
				batch, err := cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond))
				if err != nil {
					continue
				}
				for m := range batch.Messages() {
					if _, err := hjs.PublishMsg(ctx, &nats.Msg{Subject: "floor.result", Data: m.Data()}); err == nil {
						_ = m.Ack()
					}
				}
			}
		})
	}
	oc, err := js.OrderedConsumer(ctx, "FLOOR_RESULTS", jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		b.Fatal(err)
	}
	got := make(chan struct{}, items/chunk+1)
	cc, err := oc.Consume(func(m jetstream.Msg) { got <- struct{}{} })
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	task := make([]byte, 8*chunk)
	tasks := (items + chunk - 1) / chunk
	start := time.Now()
	for b.Loop() {
		for range tasks {
			if _, err := js.PublishMsgAsync(&nats.Msg{Subject: "floor.task", Data: task}); err != nil {
				b.Fatal(err)
			}
		}
		for range tasks {
			select {
			case <-got:
			case <-time.After(time.Minute): // a safety net, not a measurement
				b.Fatal("no result within a minute")
			}
		}
	}
	b.ReportMetric(float64(items*b.N)/time.Since(start).Seconds(), "items/s")
}

func floorJS(b *testing.B, nc *nats.Conn) jetstream.JetStream {
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	return js
}
