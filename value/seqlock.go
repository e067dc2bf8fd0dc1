package value

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// A T wider than a word cannot be loaded or stored by one instruction. Such
// a value keeps two buffers and a sequence word (header.Seq): the buffer
// whose index is Seq's low bit holds the current value.
//
//	writer: claim header.Writer; s := Seq; write buffer (s+1)&1;
//	        Seq = s+1 (publishes it); release header.Writer
//	reader: s := Seq; copy buffer s&1; if Seq is still s the copy is whole,
//	        else copy again
//
// Why two buffers and not the classic seqlock's one: a writer writes only
// the buffer readers are not told to read, so a writer that dies (SIGKILL)
// in the middle of a copy tears nothing anyone reads. It leaves Writer
// holding its ID; the next writer that waits long enough finds that ID's
// process dead and takes the claim over. An ID is never handed to another
// process (shm's participant.go), so a dead writer's claim never passes
// for a live newcomer's, nor a newcomer's own claim for the dead one's.
//
// The goroutines of one process share one ID, so they first queue on an
// in-process mutex (writerLocks, one of a few stripes chosen by the
// claim word's address): while a goroutine holds it, no goroutine of this
// process holds the claim, and a claim bearing this process's own ID is
// one it never set (a forged or corrupt word). Nobody writes under such a
// claim, so it is taken over at once instead of being waited on forever.
// A claim held by another live process is waited for: the Store API has
// no error to report, and that process ends its copy when it runs again. Readers never wait for a writer:
// a reader retries only if a whole store completed during its copy, which
// can starve it only under an unbroken stream of stores.
//
// A reader's copy of a buffer being rewritten is discarded, but it still
// reads memory another thread writes. Both sides therefore move the bytes
// with 8-byte atomic loads and stores: it keeps the race detector right
// about in-process use, and on weakly ordered CPUs the reader's atomic
// (acquire) loads cannot drift after its second read of Seq. The buffers
// are padded to whole words, so the word-wise copy never leaves them.
//
// Seq wraps at 2^32; a reader would be fooled only if exactly 2^32 stores
// completed during one copy.

const (
	claimSpins      = 50                    // tries with runtime.Gosched before napping
	claimNap        = 20 * time.Microsecond // sleep between tries after that
	claimCheckEvery = 5 * time.Millisecond  // how often a waiter checks the holder is alive
)

func (c *core) buf(i uint32) unsafe.Pointer { return unsafe.Add(c.word, uintptr(i&1)*c.stride) }

// claim makes this process the buffered value's only writer. Writers hold
// the claim for one copy of T and run no user code under it, so a waiter
// spins, then naps, and every few milliseconds checks whether the holder
// died.
func (c *core) claim() {
	self := c.seg.Self()
	c.local().Lock()
	if atomic.CompareAndSwapUint64(c.writer, 0, self) {
		return
	}
	var lastCheck time.Time
	for i := 0; ; i++ {
		holder := atomic.LoadUint64(c.writer)
		if holder == 0 {
			if atomic.CompareAndSwapUint64(c.writer, 0, self) {
				return
			}
			continue
		}
		if holder == self {
			// Not ours (we hold the process's stripe): forged. Take it.
			if atomic.CompareAndSwapUint64(c.writer, holder, self) {
				return
			}
			continue
		}
		if i < claimSpins {
			runtime.Gosched()
			continue
		}
		// time.Sleep yields the CPU to other processes too, which
		// runtime.Gosched does not: the holder may be waiting for it.
		time.Sleep(claimNap)
		if time.Since(lastCheck) < claimCheckEvery {
			continue
		}
		lastCheck = time.Now()
		if !c.seg.Alive(holder) && atomic.CompareAndSwapUint64(c.writer, holder, self) {
			return
		}
	}
}

func (c *core) release() {
	atomic.StoreUint64(c.writer, 0)
	c.local().Unlock()
}

// writerLocks queue this process's writers of buffered values (see above),
// striped by the claim word's address: one mapping per segment per
// process, so an address names one value.
var writerLocks [16]struct {
	sync.Mutex
	_ [56]byte // one cache line each
}

func (c *core) local() *sync.Mutex {
	a := uintptr(unsafe.Pointer(c.writer))
	return &writerLocks[(a>>6)%uintptr(len(writerLocks))].Mutex
}

func (c *core) loadBuffered(dst []byte) {
	for {
		s := atomic.LoadUint32(c.seq)
		copyOut(dst, c.buf(s))
		if atomic.LoadUint32(c.seq) == s {
			return
		}
	}
}

// publish writes x into the buffer readers do not read and then points
// them at it. The caller holds the claim.
func (c *core) publish(x []byte) {
	s := atomic.LoadUint32(c.seq)
	copyIn(c.buf(s+1), x, c.mask)
	atomic.StoreUint32(c.seq, s+1)
}

func (c *core) storeBuffered(x []byte) {
	c.claim()
	c.publish(x)
	c.release()
}

func (c *core) swapBuffered(x, old []byte) {
	c.claim()
	// With the claim held nobody else publishes, so one copy is whole.
	copyOut(old, c.buf(atomic.LoadUint32(c.seq)))
	c.publish(x)
	c.release()
}

func (c *core) compareAndSwapBuffered(old, x []byte) bool {
	c.claim()
	defer c.release()
	if !equalMasked(c.buf(atomic.LoadUint32(c.seq)), old, c.mask) {
		return false
	}
	c.publish(x)
	return true
}

// copyOut copies len(dst) bytes from the shared buffer at src, which is
// padded to whole words, with atomic word loads.
func copyOut(dst []byte, src unsafe.Pointer) {
	n := len(dst)
	i := 0
	for ; i+wordSize <= n; i += wordSize {
		binary.NativeEndian.PutUint64(dst[i:], atomic.LoadUint64((*uint64)(unsafe.Add(src, i))))
	}
	if i < n {
		w := atomic.LoadUint64((*uint64)(unsafe.Add(src, i)))
		copy(dst[i:], wordBytes(&w))
	}
}

// copyIn copies src into the shared buffer at dst with atomic word stores,
// zeroing padding (mask) and the bytes past src in the last word.
func copyIn(dst unsafe.Pointer, src []byte, mask []uint64) {
	n := len(src)
	for i, k := 0, 0; i < n; i, k = i+wordSize, k+1 {
		var w uint64
		if i+wordSize <= n {
			w = binary.NativeEndian.Uint64(src[i:])
		} else {
			copy(wordBytes(&w), src[i:])
		}
		if mask != nil {
			w &= mask[k]
		}
		atomic.StoreUint64((*uint64)(unsafe.Add(dst, i)), w)
	}
}

// equalMasked reports whether the shared buffer at p holds b's bytes,
// padding excluded.
func equalMasked(p unsafe.Pointer, b []byte, mask []uint64) bool {
	n := len(b)
	for i, k := 0, 0; i < n; i, k = i+wordSize, k+1 {
		var w uint64
		if i+wordSize <= n {
			w = binary.NativeEndian.Uint64(b[i:])
		} else {
			copy(wordBytes(&w), b[i:])
		}
		cur := atomic.LoadUint64((*uint64)(unsafe.Add(p, i)))
		if mask != nil {
			w &= mask[k]
			cur &= mask[k]
		}
		if w != cur {
			return false
		}
	}
	return true
}
