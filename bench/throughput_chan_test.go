package bench

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// Throughput/chan: the reference a Go programmer has in one process. Two
// goroutines, a buffered channel of the ring's capacity, and the same copy
// in and copy out per message as the ring: the producer copies the message
// into one of a fixed set of buffers and sends the slice, the consumer
// copies it out. (A channel of [64<<10]byte values is not allowed: element
// types must be under 64 KiB.)
//
// Buffer reuse is safe by the channel's own ordering: with capacity k and
// k+2 buffers, the producer reuses buffer i%(k+2) for message i only after
// sending message i-1, which completes only after the consumer received
// message i-k-1, i.e. after it finished copying message i-k-2, the buffer's
// previous user (the Go memory model: the j-th receive from a channel of
// capacity k is synchronized before the completion of the j+k-th send).

// chanRound runs one round of the channel benchmark: n messages.
func chanRound(b testing.TB, n int, sz msgSize) {
	stopTimer(b)
	clock, _ := b.(timer)
	k := sz.slots
	ch := make(chan []byte, k)
	bufs := make([][]byte, k+2)
	for i := range bufs {
		bufs[i] = make([]byte, sz.bytes)
	}
	msg := make([]byte, sz.bytes)
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		out := make([]byte, sz.bytes)
		<-ready
		for i := 0; i < n; i++ {
			m := copy(out, <-ch)
			if got := binary.LittleEndian.Uint64(out[:m]); got != uint64(i) {
				done <- fmt.Errorf("message %d carries sequence %d", i, got)
				return
			}
		}
		done <- nil
	}()
	if clock != nil {
		clock.StartTimer()
	}
	close(ready)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint64(msg, uint64(i))
		buf := bufs[i%len(bufs)]
		copy(buf, msg)
		ch <- buf
	}
	err := <-done
	stopTimer(b)
	if err != nil {
		b.Fatal(err)
	}
}

func benchChan(b *testing.B, sz msgSize) {
	chanRound(b, b.N, sz)
	reportRate(b, b.N, "msgs/s")
}

func benchThroughputChan(b *testing.B, sz msgSize) {
	RunOnce(b, "chan/"+sz.name, func(b *testing.B) { benchChan(b, sz) })
}
