package ringqueue_test

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/multiproc-go/multiproc/shm"
)

// Numbered, checksummed test messages: 16 header bytes (producer, seq,
// checksum) and a filler whose length and bytes derive from (producer,
// seq), so a torn or misdelivered message fails its check.
const testMsgMax = 16 + 47

func testMsgLen(producer, seq uint32) int { return 16 + int((seq*7+producer)%48) }

func testMsgSum(producer, seq uint32, filler []byte) uint64 {
	h := uint64(14695981039346656037)
	mix := func(b byte) { h ^= uint64(b); h *= 1099511628211 }
	for i := 0; i < 4; i++ {
		mix(byte(producer >> (8 * i)))
		mix(byte(seq >> (8 * i)))
	}
	for _, b := range filler {
		mix(b)
	}
	return h
}

// encodeTestMsg writes message (producer, seq) into b and returns its length.
func encodeTestMsg(b []byte, producer, seq uint32) int {
	n := testMsgLen(producer, seq)
	binary.LittleEndian.PutUint32(b[0:], producer)
	binary.LittleEndian.PutUint32(b[4:], seq)
	filler := b[16:n]
	for i := range filler {
		filler[i] = byte(seq*31 + producer*7 + uint32(i))
	}
	binary.LittleEndian.PutUint64(b[8:], testMsgSum(producer, seq, filler))
	return n
}

// decodeTestMsg checks a message and returns its producer and seq.
func decodeTestMsg(b []byte) (producer, seq uint32, err error) {
	if len(b) < 16 {
		return 0, 0, fmt.Errorf("message of %d bytes", len(b))
	}
	producer = binary.LittleEndian.Uint32(b[0:])
	seq = binary.LittleEndian.Uint32(b[4:])
	if len(b) != testMsgLen(producer, seq) {
		return producer, seq, fmt.Errorf("message %d/%d: %d bytes, want %d", producer, seq, len(b), testMsgLen(producer, seq))
	}
	if sum := testMsgSum(producer, seq, b[16:]); sum != binary.LittleEndian.Uint64(b[8:]) {
		return producer, seq, fmt.Errorf("message %d/%d: checksum mismatch (torn)", producer, seq)
	}
	return producer, seq, nil
}

// ledger records deliveries in shared memory: one bit per (producer, seq)
// and counters of duplicates and bad messages, so consumers in any process
// can check in and the parent can verify.
type ledger struct {
	obj      shm.Object
	perProd  uint32
	bits     []uint32
	dups     *uint32
	bad      *uint32
	received *uint64
}

func ledgerSize(producers, perProd int) int { return 64 + (producers*perProd+31)/32*4 }

func newLedger(seg *shm.Segment, name string, producers, perProd int) (*ledger, error) {
	obj, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindBytes, Size: ledgerSize(producers, perProd)}, func(mem []byte) error {
		binary.LittleEndian.PutUint32(mem[0:], uint32(producers))
		binary.LittleEndian.PutUint32(mem[4:], uint32(perProd))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ledgerOf(obj), nil
}

func openLedger(seg *shm.Segment, name string) (*ledger, error) {
	obj, err := seg.Lookup(name)
	if err != nil {
		return nil, err
	}
	return ledgerOf(obj), nil
}

func ledgerOf(obj shm.Object) *ledger {
	mem := obj.Bytes()
	producers := binary.LittleEndian.Uint32(mem[0:])
	perProd := binary.LittleEndian.Uint32(mem[4:])
	n := (int(producers)*int(perProd) + 31) / 32
	return &ledger{
		obj:      obj,
		perProd:  perProd,
		bits:     unsafe.Slice((*uint32)(obj.Pointer(64)), n),
		dups:     obj.Uint32(8),
		bad:      obj.Uint32(12),
		received: obj.Uint64(16),
	}
}

// record checks a received message in; it returns an error for a bad or
// duplicate one.
func (l *ledger) record(b []byte) error {
	p, s, err := decodeTestMsg(b)
	if err == nil && s >= l.perProd {
		err = fmt.Errorf("message %d/%d out of range", p, s)
	}
	if err == nil && int(p)*int(l.perProd)/32 >= len(l.bits) {
		err = fmt.Errorf("message %d/%d: no such producer", p, s)
	}
	if err != nil {
		atomic.AddUint32(l.bad, 1)
		return err
	}
	i := p*l.perProd + s
	if old := atomic.OrUint32(&l.bits[i/32], 1<<(i%32)); old&(1<<(i%32)) != 0 {
		atomic.AddUint32(l.dups, 1)
		return fmt.Errorf("message %d/%d delivered twice", p, s)
	}
	atomic.AddUint64(l.received, 1)
	return nil
}

func (l *ledger) has(p, s uint32) bool {
	i := p*l.perProd + s
	return atomic.LoadUint32(&l.bits[i/32])&(1<<(i%32)) != 0
}

// missing counts the messages of producer p in [0, n) not received.
func (l *ledger) missing(p uint32, n int) int {
	c := 0
	for s := 0; s < n; s++ {
		if !l.has(p, uint32(s)) {
			c++
		}
	}
	return c
}
