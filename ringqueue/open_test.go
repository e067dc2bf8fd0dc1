package ringqueue

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/require"
)

// Corrupt headers are errors at Open, never panics or faults.

func TestOpenRefusesCorruptHeaders(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(l *layout)
		want   error
	}{
		{"magic", func(l *layout) { l.Hdr.Magic++ }, shm.ErrCorrupt},
		{"version", func(l *layout) { l.Hdr.Version = layoutVersion + 1 }, shm.ErrVersion},
		{"mode", func(l *layout) { l.Hdr.Mode = 3 }, shm.ErrCorrupt},
		{"capacity not a power of two", func(l *layout) { l.Hdr.Capacity = 12 }, shm.ErrCorrupt},
		{"capacity zero", func(l *layout) { l.Hdr.Capacity = 0 }, shm.ErrCorrupt},
		{"capacity too big for the object", func(l *layout) { l.Hdr.Capacity = 1 << 20 }, shm.ErrCorrupt},
		{"slot size zero", func(l *layout) { l.Hdr.SlotSize = 0 }, shm.ErrCorrupt},
		{"slot size huge", func(l *layout) { l.Hdr.SlotSize = 1 << 31 }, shm.ErrCorrupt},
		{"slot size too big for the object", func(l *layout) { l.Hdr.SlotSize = 4096 }, shm.ErrCorrupt},
		{"stride", func(l *layout) { l.Hdr.Stride = 8 }, shm.ErrCorrupt},
		{"slots offset", func(l *layout) { l.Hdr.SlotsOff = 0 }, shm.ErrCorrupt},
		{"flags", func(l *layout) { l.Hdr.Flags = 1 }, shm.ErrCorrupt},
		{"closed", func(l *layout) { l.Hdr.Closed = 7 }, shm.ErrCorrupt},
		{"aux", func(l *layout) { l.Hdr.AuxSize = 1 << 40 }, shm.ErrCorrupt},
		{"aux offset", func(l *layout) { l.Hdr.AuxOff = 64 }, shm.ErrCorrupt},
		{"tail far past head", func(l *layout) { l.Tail.Index = 33 }, shm.ErrCorrupt},
		{"head far past tail", func(l *layout) { l.Head.Index = 17 }, shm.ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seg := newSeg(t, 1<<16)
			q, err := New(seg, "q", Options{Capacity: 8, SlotSize: 32})
			require.NoError(t, err)
			c.break_(q.lay)
			_, err = Open(seg, "q")
			require.ErrorIs(t, err, c.want)
			require.Contains(t, err.Error(), `ringqueue "q": open`)
			_, err = Inspect(q.obj)
			require.ErrorIs(t, err, c.want)
		})
	}
}

func TestOpenRefusesAnObjectTooSmallForItsSlots(t *testing.T) {
	q := newQueue(t, Options{Capacity: 8, SlotSize: 32})
	small := q.obj
	small.Size = slotsOff + 7*q.g.stride
	_, err := validateObject(small)
	require.ErrorIs(t, err, shm.ErrCorrupt)
	small.Size = 100
	_, err = validateObject(small)
	require.ErrorIs(t, err, shm.ErrCorrupt)
}

func TestSPSCTailClosedBitIsNotAnIndexError(t *testing.T) {
	seg := newSeg(t, 1<<16)
	q, err := New(seg, "q", Options{Capacity: 8, SlotSize: 8, Mode: SPSC})
	require.NoError(t, err)
	require.NoError(t, q.Put(nil))
	require.NoError(t, q.Close())
	_, err = Open(seg, "q")
	require.NoError(t, err)
}

func TestCorruptLengthWordIsAnErrorNotAFault(t *testing.T) {
	for _, m := range modes {
		q := newQueue(t, Options{Capacity: 4, SlotSize: 8, Mode: m})
		require.NoError(t, q.Put([]byte("x")))
		*q.slotLen(q.slot(0)) = 1 << 30
		_, err := q.Get(make([]byte, 8))
		require.ErrorIs(t, err, shm.ErrCorrupt)
		require.NoError(t, q.Put([]byte("y")), "the queue goes on")
		buf := make([]byte, 8)
		n, err := q.Get(buf)
		require.NoError(t, err)
		require.Equal(t, "y", string(buf[:n]))
	}
}

// fuzzObject is a queue object whose first bytes the fuzzer overwrites.
const fuzzCap, fuzzSlot = 8, 24

// FuzzOpenHeader feeds arbitrary header bytes and object sizes to Open's
// validation; whatever it accepts must then work without faulting.
func FuzzOpenHeader(f *testing.F) {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = seg.Detach() })
	q, err := New(seg, "q", Options{Capacity: fuzzCap, SlotSize: fuzzSlot})
	if err != nil {
		f.Fatal(err)
	}
	valid := make([]byte, slotsOff)
	copy(valid, unsafe.Slice((*byte)(unsafe.Pointer(q.lay)), slotsOff))
	f.Add(valid, q.obj.Size)
	spsc := append([]byte(nil), valid...)
	binary.NativeEndian.PutUint32(spsc[12:], uint32(SPSC))
	binary.NativeEndian.PutUint32(spsc[24:], uint32(spscSlotHeader+fuzzSlot))
	f.Add(spsc, q.obj.Size)
	f.Fuzz(func(t *testing.T, hdr []byte, size uint64) {
		mem := q.obj.Bytes()
		clear(mem)
		copy(mem[:slotsOff], hdr)
		obj := q.obj
		obj.Size = min(size, q.obj.Size)
		g, err := validateObject(obj)
		if err != nil {
			if !errors.Is(err, shm.ErrCorrupt) && !errors.Is(err, shm.ErrVersion) {
				t.Fatalf("error not ErrCorrupt/ErrVersion: %v", err)
			}
			return
		}
		if _, err := Inspect(obj); err != nil {
			t.Fatalf("Inspect refuses what Open accepts: %v", err)
		}
		// Accepted: the queue must work within obj's bounds.
		fq := &Queue{}
		fq.init(seg, obj, g)
		msg := make([]byte, fq.SlotSize())
		buf := make([]byte, fq.SlotSize())
		for i := 0; i < 3*fq.Cap()+1; i++ {
			_ = fq.TryPut(msg)
			_, _ = fq.TryGet(buf)
			_, _ = fq.TryPutBatch([][]byte{msg, msg[:1]})
			_, _ = fq.TryGetBatch(4, func([]byte) {})
		}
		_ = fq.Len()
		_ = fq.Detach()
	})
}
